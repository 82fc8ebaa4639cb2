// Package secret owns the portal's cryptographic primitives: random bearer
// tokens and how they are hashed for storage, constant-time comparison, the
// at-rest encryption key file, and AES-GCM sealing of stored secrets (TOTP
// seeds, application secrets).
//
// It must not import any other package of the project.
package secret
