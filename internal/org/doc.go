// Package org owns the organisation's settings: every row of the settings
// table is named here and read or written only through its typed
// functions (Load, HelpDeskMaySend, PhoneRegion, ...; Settings.Save for an
// admin's change, in one transaction with its audit record). The name
// every page and message shows is cached briefly so pages do not query it
// on every request. It imports only store and audit.
package org
