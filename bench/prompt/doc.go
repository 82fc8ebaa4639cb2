// Package promptbench measures the Universal Prompt over real HTTP on
// loopback: a whole browser sign-in (authorize, the prompt, the return with
// a code) and the application's code exchange, as figures reported with
// b.ReportMetric (`make bench`). Nothing here asserts on time.
package promptbench
