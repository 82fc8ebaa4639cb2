// Package demoapp is a small relying-party web application that signs a
// user in with the portal's Universal Prompt, the way an organisation's own
// application would: a username form, the redirect to authorize, the code
// exchange and a check of the signed result. `portal demo-app` runs it so a
// newcomer can watch inline enrollment end to end; tests use its Client as
// the protocol's client.
//
// It is a client of the portal, not a part of it: package apps holds the
// portal's record of applications like this one, and package app assembles
// the portal itself.
//
// It talks to the portal only over HTTP (it must not import web, duo or
// prompt); it may create its own web application through apps when it
// shares the portal's database.
package demoapp
