// Package config reads the portal's settings from command-line flags and
// PORTAL_* environment variables (a flag wins over its variable; a *_FILE
// variable may hold a secret's path instead of the secret), and validates them
// before anything starts. It must not import other packages of the project.
package config
