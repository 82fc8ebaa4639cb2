// Package directory syncs users and groups from an LDAP directory (OpenLDAP
// or Active Directory) into the portal: the settings of a directory (with
// presets per kind, the bind password sealed at rest), the LDAP reads
// (paged search, RFC 2696, through go-ldap), the plan of a run (what would
// be created, updated, disabled or removed) and its writes, one
// transaction a batch with an audit record per change, under a database
// lease so that one run at a time touches a directory.
//
// Its safety rules are the point of the package: a search that fails, is
// cut short or comes back empty changes nothing; a run that would disable
// more than a share of the synced users waits for confirmation; users that
// leave the directory are disabled and kept in a trash for 7 days; users
// the directory did not create are never touched.
//
// It knows nothing of HTTP; internal/web/admin and the portal command call
// it.
package directory
