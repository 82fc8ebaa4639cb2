package sqlstore

import (
	"encoding/binary"
	"errors"
	"time"

	"enrollportal/internal/store"
)

// The login cache keeps each user as one packed byte slice rather than as
// a store.LoginSubject. A LoginSubject holds some thirty pointers (its
// strings, slices and optional times); 100,000 of them made every garbage
// collection trace millions of pointers through 74 MB, about 150 ms of CPU
// per cycle on the 2-core bench machine, and a preauth that ran during a
// cycle waited behind it (bench/duo's p99 over TLS, bench/adminapi's worst
// pages). A byte slice holds no pointers, so the collector does not look
// inside it. Reading an entry unpacks it: one string for all its text, and
// the slices a caller may change, which a read copied before anyway.

// packLoginSubject appends ls to buf in the layout unpackLoginSubject reads.
func packLoginSubject(buf []byte, ls store.LoginSubject) []byte {
	u := ls.User
	buf = binary.AppendVarint(buf, u.ID)
	for _, s := range []string{u.Key, u.Username, u.RealName, u.FirstName, u.LastName, u.Email, u.Notes, u.Status} {
		buf = packString(buf, s)
	}
	buf = binary.AppendVarint(buf, int64(u.FailedAttempts))
	buf = packTime(buf, u.CreatedAt)
	buf = packTime(buf, u.UpdatedAt)
	buf = packOptionalTime(buf, u.LastLoginAt)
	buf = packCount(buf, ls.GroupIDs == nil, len(ls.GroupIDs))
	for _, id := range ls.GroupIDs {
		buf = binary.AppendVarint(buf, id)
	}
	buf = packCount(buf, ls.Phones == nil, len(ls.Phones))
	for _, p := range ls.Phones {
		buf = binary.AppendVarint(buf, p.ID)
		for _, s := range []string{p.Key, p.Number, p.Extension, p.Name, p.Type, p.Platform} {
			buf = packString(buf, s)
		}
		if p.TOTPSecret == nil {
			buf = append(buf, 0)
		} else {
			buf = append(buf, 1)
			buf = packString(buf, string(p.TOTPSecret))
		}
		if p.Activated {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
		buf = packOptionalTime(buf, p.ActivatedAt)
		buf = binary.AppendVarint(buf, p.LastTOTPStep)
		buf = binary.AppendVarint(buf, int64(p.SMSPasscodesSent))
		buf = packTime(buf, p.CreatedAt)
	}
	return buf
}

// packCount writes a slice's length, 0 for a nil slice and n+1 otherwise,
// so that an empty slice reads back as empty and a nil one as nil.
func packCount(buf []byte, isNil bool, n int) []byte {
	if isNil {
		return append(buf, 0)
	}
	return binary.AppendUvarint(buf, uint64(n)+1)
}

func packString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// packTime keeps a time as the store keeps it: whole Unix seconds (the
// times of a LoginSubject are read from the database).
func packTime(buf []byte, t time.Time) []byte { return binary.AppendVarint(buf, t.Unix()) }

func packOptionalTime(buf []byte, t *time.Time) []byte {
	if t == nil {
		return append(buf, 0)
	}
	return packTime(append(buf, 1), *t)
}

// errBadPack is a packed entry that does not read back: a defect of this
// file, never of the data; the cache then reads the database.
var errBadPack = errors.New("store: login cache entry does not unpack")

// packReader reads a packed entry (b, never changed once kept). Its
// strings are substrings of s, one string copy of b, so a read allocates
// once for all of them.
type packReader struct {
	b   []byte
	s   string
	off int
	err error
}

func (r *packReader) varint() int64   { return readNumber(r, binary.Varint) }
func (r *packReader) uvarint() uint64 { return readNumber(r, binary.Uvarint) }

// readNumber reads a varint (signed or not, by decode) at r's offset.
func readNumber[T int64 | uint64](r *packReader, decode func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := decode(r.b[r.off:])
	if n <= 0 {
		r.err = errBadPack
		return 0
	}
	r.off += n
	return v
}

func (r *packReader) byte() byte {
	if r.err != nil || r.off >= len(r.s) {
		r.err = errBadPack
		return 0
	}
	b := r.s[r.off]
	r.off++
	return b
}

func (r *packReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.s)-r.off) {
		r.err = errBadPack
		return ""
	}
	s := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *packReader) optionalTime() *time.Time {
	if r.byte() == 0 {
		return nil
	}
	t := fromUnix(r.varint())
	return &t
}

// count reads what packCount wrote: -1 for a nil slice. The rest of the
// entry must be able to hold the length read (each element takes a byte at
// least), so a damaged one cannot make a huge allocation.
func (r *packReader) count() int {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.s)-r.off)+1 {
		r.err = errBadPack
		return -1
	}
	return int(n) - 1
}

// unpackLoginSubject reads what packLoginSubject wrote. The result shares
// nothing a caller could change with the entry.
func unpackLoginSubject(packed []byte) (store.LoginSubject, error) {
	r := &packReader{b: packed, s: string(packed)}
	var ls store.LoginSubject
	u := &ls.User
	u.ID = r.varint()
	for _, dst := range []*string{&u.Key, &u.Username, &u.RealName, &u.FirstName, &u.LastName, &u.Email, &u.Notes, &u.Status} {
		*dst = r.string()
	}
	u.FailedAttempts = int(r.varint())
	u.CreatedAt = fromUnix(r.varint())
	u.UpdatedAt = fromUnix(r.varint())
	u.LastLoginAt = r.optionalTime()
	if n := r.count(); n >= 0 {
		ls.GroupIDs = make([]int64, n)
		for i := range ls.GroupIDs {
			ls.GroupIDs[i] = r.varint()
		}
	}
	if n := r.count(); n >= 0 {
		ls.Phones = make([]store.Phone, n)
		for i := range ls.Phones {
			p := &ls.Phones[i]
			p.ID = r.varint()
			for _, dst := range []*string{&p.Key, &p.Number, &p.Extension, &p.Name, &p.Type, &p.Platform} {
				*dst = r.string()
			}
			if r.byte() == 1 {
				p.TOTPSecret = []byte(r.string())
			}
			p.Activated = r.byte() == 1
			p.ActivatedAt = r.optionalTime()
			p.LastTOTPStep = r.varint()
			p.SMSPasscodesSent = int(r.varint())
			p.CreatedAt = fromUnix(r.varint())
		}
	}
	if r.err == nil && r.off != len(r.s) {
		r.err = errBadPack
	}
	return ls, r.err
}

// packedUserID reads the user id at the start of a packed entry.
func packedUserID(packed []byte) int64 {
	id, _ := binary.Varint(packed)
	return id
}
