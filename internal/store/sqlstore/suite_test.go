package sqlstore_test

import (
	"context"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"enrollportal/internal/store/postgres"
	"enrollportal/internal/store/sqlite"
	"enrollportal/internal/store/sqlstore"
	"enrollportal/internal/testkit"
)

// The store's tests test behaviour, so they run on both backends: as
// themselves on SQLite, and as the subtests of TestPostgresStore on a
// PostgreSQL database of their own (testkit.StartPostgres). Run one on
// PostgreSQL with `go test ./internal/store/sqlstore -run 'TestPostgresStore/NAME'`.

// onPostgres is set while TestPostgresStore runs the suite (the tests of
// this package do not run in parallel).
var onPostgres bool

// suite is every test of the package but the runners; TestSuiteListsEveryTest
// keeps it complete.
var suite = map[string]func(*testing.T){
	"TestOpenTwiceKeepsDataAndSeedsOneGlobalPolicy":              TestOpenTwiceKeepsDataAndSeedsOneGlobalPolicy,
	"TestDuplicateUsernameIsConflict":                            TestDuplicateUsernameIsConflict,
	"TestUserAttemptsAreReservedUpToMaxAndLockAtIt":              TestUserAttemptsAreReservedUpToMaxAndLockAtIt,
	"TestAdvanceTOTPStepRefusesReplay":                           TestAdvanceTOTPStepRefusesReplay,
	"TestEnqueueMessageKeepsOnePerIntent":                        TestEnqueueMessageKeepsOnePerIntent,
	"TestTransactionRollsBackEveryStep":                          TestTransactionRollsBackEveryStep,
	"TestConfigCacheNeverServesAStaleValue":                      TestConfigCacheNeverServesAStaleValue,
	"TestAuthTransactionsBelongToTheirApplicationAndExpire":      TestAuthTransactionsBelongToTheirApplicationAndExpire,
	"TestGroupIDsOfUser":                                         TestGroupIDsOfUser,
	"TestApplicationLoadsRedirectURIsAndGroups":                  TestApplicationLoadsRedirectURIsAndGroups,
	"TestBulkInsertsSetIDsAcrossChunks":                          TestBulkInsertsSetIDsAcrossChunks,
	"TestGroupedWritesShareACommitAndFailAlone":                  TestGroupedWritesShareACommitAndFailAlone,
	"TestGroupWritesWaitingWhileALoginWriteQueues":               TestGroupWritesWaitingWhileALoginWriteQueues,
	"TestLoginSubjectAgreesWithTheSeparateReads":                 TestLoginSubjectAgreesWithTheSeparateReads,
	"TestOutboxClaimListAndRetry":                                TestOutboxClaimListAndRetry,
	"TestOutboxReopenUndoesARecordedDelivery":                    TestOutboxReopenUndoesARecordedDelivery,
	"TestLoginCacheSeesThisProcessWritesAtOnce":                  TestLoginCacheSeesThisProcessWritesAtOnce,
	"TestLoginCacheSeesAnotherProcessWritesAfterThePollInterval": TestLoginCacheSeesAnotherProcessWritesAfterThePollInterval,
	"TestLoginCacheKeepsUsersAcrossAttemptCounters":              TestLoginCacheKeepsUsersAcrossAttemptCounters,
	"TestConfigCacheSeesAnotherProcessWrites":                    TestConfigCacheSeesAnotherProcessWrites,
	"TestLoginCacheIsBounded":                                    TestLoginCacheIsBounded,
	"TestLoginCacheForgetsEverythingAfterALongBacklog":           TestLoginCacheForgetsEverythingAfterALongBacklog,
	"TestLoginCacheWarmsWithEveryUser":                           TestLoginCacheWarmsWithEveryUser,
	"TestSMSPasscodesCountSendsAndSpendOnce":                     TestSMSPasscodesCountSendsAndSpendOnce,
	"TestOutboxClaimsLoginMessagesFirst":                         TestOutboxClaimsLoginMessagesFirst,
	"TestRefusedStatementLeavesTheTransactionUsable":             TestRefusedStatementLeavesTheTransactionUsable,
	"TestCountUserFiguresWithAndWithoutMethods":                  TestCountUserFiguresWithAndWithoutMethods,
	"TestLeaseHasOneHolderUntilItEnds":                           TestLeaseHasOneHolderUntilItEnds,
	"TestDirectoryUpdateAndDeleteKeepUsersAndGroups":             TestDirectoryUpdateAndDeleteKeepUsersAndGroups,
	"TestLoneWriteWaitsForAnotherProcessWriteLock":               TestLoneWriteWaitsForAnotherProcessWriteLock,
	"TestHasFactorReadsOnlyTheUsersOwnPhones":                    TestHasFactorReadsOnlyTheUsersOwnPhones,
	"TestLoginCacheEntriesReadBackExactly":                       TestLoginCacheEntriesReadBackExactly,
	"TestEnrollmentLinkAndUserReadsBoth":                         TestEnrollmentLinkAndUserReadsBoth,
	"TestImportPlansAreTakenOnceAndSweptWithTheirChunks":         TestImportPlansAreTakenOnceAndSweptWithTheirChunks,
}

// runners are the tests that run the suite, not part of it.
var runners = map[string]bool{"TestPostgresStore": true, "TestSuiteListsEveryTest": true}

// TestPostgresStore runs every test of the suite on PostgreSQL.
func TestPostgresStore(t *testing.T) {
	names := make([]string, 0, len(suite))
	for name := range suite {
		names = append(names, name)
	}
	sort.Strings(names)
	onPostgres = true
	defer func() { onPostgres = false }()
	for _, name := range names {
		t.Run(strings.TrimPrefix(name, "Test"), suite[name])
	}
}

// TestSuiteListsEveryTest fails when a test of the package is missing from
// suite, so that a new store test runs on PostgreSQL too.
func TestSuiteListsEveryTest(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for name, obj := range file.Scope.Objects {
			if obj.Kind.String() != "func" || !strings.HasPrefix(name, "Test") || runners[name] {
				continue
			}
			if _, ok := suite[name]; !ok {
				t.Errorf("%s (%s) is not in suite (suite_test.go): add it, so that it runs on PostgreSQL too", name, f)
			}
		}
	}
}

// newDatabase makes a new, empty database of the backend under test and
// returns a function that opens it (again), closed when the test ends.
func newDatabase(t *testing.T) func() *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	var open func() (*sqlstore.DB, error)
	if onPostgres {
		url := testkit.StartPostgres(t)
		open = func() (*sqlstore.DB, error) { return postgres.Open(ctx, url) }
	} else {
		path := filepath.Join(t.TempDir(), "portal.db")
		open = func() (*sqlstore.DB, error) { return sqlite.Open(ctx, path) }
	}
	return func() *sqlstore.DB {
		t.Helper()
		db, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// openDB opens a new, empty database of the backend under test.
func openDB(t *testing.T) *sqlstore.DB {
	t.Helper()
	return newDatabase(t)()
}
