// Package boltscrub zeroes the free pages of a bbolt file in place.
//
// bbolt keeps the bytes of every value it replaced or deleted in the pages
// it freed, and reuses those pages only as it needs them: after personal
// data was rewritten (an erasure) or deleted (retention), the file still
// holds it. FreePages overwrites every page bbolt lists as free with zeros
// and fsyncs the file. The embedded event log, the read models and the
// notification outbox scrub their files with it.
//
// Contract: the caller passes a write transaction, so bbolt's writer lock
// keeps every other writer out and no page is reused while it is zeroed,
// and has made sure that no read transaction is open that could still read
// a page freed after it began (each store does so its own way: waiting for
// its readers, or answering busy). The transaction is left to the caller
// to roll back or commit; FreePages changes nothing bbolt tracks. Cost: one
// read of every page header (not of the data) and one write per free page.
package boltscrub
