// Package logbuf holds SafeBuffer, the buffer tests hand to a logger that
// several goroutines write to. It is a leaf package, apart from testkit, so
// that the tests inside packages testkit depends on (notify) can use it too;
// testkit.SafeBuffer is the same type.
package logbuf

import (
	"bytes"
	"sync"
)

// SafeBuffer is a bytes.Buffer safe for concurrent writes, for logs.
type SafeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SafeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SafeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
