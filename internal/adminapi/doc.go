// Package adminapi serves Duo's Admin API (/admin/v1 and /admin/v2) for
// admin-api applications, so that scripts and HR jobs written against
// Duo's clients (duo_api_golang's admin package, duo_client_python, the
// Node client) create users and phones, associate them, page through them
// and fetch activation links by changing a hostname.
//
// It owns the wire: signature checking (through internal/duo's verifier,
// v2 form and v5 JSON), the grants of the calling application, its rate
// limit, parameter reading (unknown parameters are refused), Duo's JSON
// envelope with paging metadata, and Duo's error codes. Every write is one
// call to a domain service (users, enroll), which runs it in one
// transaction with its audit record; the actor is the application. It
// holds no business rules and must not import web.
package adminapi
