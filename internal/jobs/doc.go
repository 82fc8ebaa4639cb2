// Package jobs runs long bulk changes (a bulk enrollment, an import apply)
// in short transactions under a durable job record, so that the login path
// never waits long behind them and a crash never leaves one half-applied.
//
// A job is a row in the jobs table: its input (payload), how far it got
// (cursor) and its running counts (result). A kind (bulk, importer) gives a
// Task that applies the next batch of rows through the transaction it is
// handed; the runner writes the new cursor and counts in that same
// transaction, fenced by its hold on the job. A batch is therefore applied
// exactly once: either it committed with the cursor past it, or neither
// happened.
//
// Forward recovery: a job is never rolled back, it is finished. When the
// process dies (or stops at the end of its shutdown grace period) the job
// stays "running" in the table; the next start (or another live process)
// takes it back at once (see package instance) and goes on from the cursor.
// Until it is done the admin pages show it as running, with its progress.
// A row that the database refuses when it comes to it (another admin changed
// the same user since the preview) is skipped and listed on the job's page;
// an error that retrying does not cure marks the job failed, with what was
// applied so far said plainly.
//
// It knows nothing of HTTP; it imports store and clock.
package jobs
