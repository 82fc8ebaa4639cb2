# Enrollment Portal. `make run` starts the portal on SQLite; `make test` runs
# every test, installing the Debian tools the tests need when run as root.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
TOOLS_DIR := $(CURDIR)/.test-tools

.PHONY: build run demo test test-tools bench vet lint fmt clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/portal ./portal

run: build
	./bin/portal serve

# The portal on :8080 and a demo application on :8090 that signs people in
# through it (Universal Prompt, inline enrollment). See README "Try the
# browser sign-in".
demo: build
	./scripts/demo.sh ./bin/portal

# Debian packages the tests drive for real: Chromium for the browser tests,
# login_duo for Unix logins, slapd for directory sync, zbar/oathtool for
# checking QR codes and passcodes by hand, PostgreSQL for the store's tests
# on its second backend. axe-core and Duo's Node.js clients come from npm.
test-tools:
	@./scripts/test-tools.sh "$(TOOLS_DIR)"

# The packages whose behaviour depends on the database, run a second time
# on PostgreSQL (PORTAL_TEST_DB=postgres: their test portals and stores open
# on a throwaway server, see internal/testkit/testdb). The store's own suite
# runs on both backends in the first run (TestPostgresStore), and so do
# portal's TestPostgres and TestTwoInstances tests, which open PostgreSQL
# whatever PORTAL_TEST_DB says: PG_TEST_SKIP leaves them out of the second
# run, which would only repeat them.
PG_TEST_PACKAGES := ./internal/duo ./internal/enroll ./internal/factors ./internal/users \
	./internal/verify ./internal/notify ./internal/policy ./internal/bulk ./internal/importer \
	./internal/adminapi ./internal/apps ./internal/prompt ./internal/admin ./internal/org \
	./internal/web ./internal/web/admin ./internal/directory ./internal/instance ./portal
PG_TEST_SKIP := ^Test(Postgres|TwoInstances)

# staticcheck (pinned in scripts/test-tools.sh, installed into TOOLS_DIR/bin)
# fails the run on any finding.
test: test-tools
	$(GO) vet ./...
	"$(TOOLS_DIR)/bin/staticcheck" ./...
	PORTAL_TEST_TOOLS="$(TOOLS_DIR)" $(GO) test -count=1 -timeout 30m ./...
	PORTAL_TEST_DB=postgres PORTAL_TEST_TOOLS="$(TOOLS_DIR)" $(GO) test -count=1 -timeout 30m -skip '$(PG_TEST_SKIP)' $(PG_TEST_PACKAGES)

bench: test-tools
	PORTAL_TEST_TOOLS="$(TOOLS_DIR)" $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m -p 1 ./bench/...

vet:
	$(GO) vet ./...

lint: test-tools
	"$(TOOLS_DIR)/bin/staticcheck" ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin
