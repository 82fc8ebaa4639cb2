// Package org serves the organisation's settings that every page and message
// shows (its name, for now), read from the settings table with a short cache
// so pages do not query them on every request. It imports only store.
package org
