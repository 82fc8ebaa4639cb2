// Package apps owns protected applications: creating one with its
// credentials (client_id/client_secret for web, ikey/skey for the others),
// validating its redirect URIs, sealing its secret at rest and opening it
// again to check a signature. It knows nothing of HTTP; it imports store,
// secret, audit, clock and text.
//
// Not to be confused with package app (which assembles the portal at start)
// or package demoapp (a sample application that is one of these apps).
package apps
