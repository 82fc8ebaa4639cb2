// Package store defines the portal's persistent records and the Store
// interface through which every other package reads and writes them. All
// SQL lives in its dialect packages (sqlite/ today; a postgres/ package can
// implement the same interface for deployments that run several instances).
//
// The interface is split by concern (users.go, phones.go, links.go, ...), each
// method takes ctx first and does one statement's worth of work; a multi-step
// change runs its steps inside InTx so that it is one transaction.
//
// It must not import any other package of the project.
package store
