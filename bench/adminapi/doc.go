// Package adminapi holds the speed targets of the Admin API: paging through
// 100,000 users at limit=300, and bulk_create of 100 users per call.
package adminapi
