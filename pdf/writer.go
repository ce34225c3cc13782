package pdf

import (
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Raw is a pre-serialized object, written verbatim by AppendObject and Update.
type Raw []byte

// Update collects the objects of one incremental update and serializes them, followed by a cross-reference
// section of the same kind as the document's newest one (a table after a table, a stream after a stream), whose
// /Prev points to that section.
//
// In an encrypted document the update encrypts the strings and stream data of the objects it writes (not the
// /Contents of signature dictionaries, nor Raw objects, which are written as they are) and keeps the trailer's
// /Encrypt; the document must be one the reader decrypts (Reader.DecryptErr is nil).
type Update struct {
	// Rand supplies the initialization vectors of AES encryption; nil means crypto/rand.
	Rand io.Reader

	r    *Reader
	next uint32
	objs map[uint32]updateObject
}

type updateObject struct {
	gen uint16
	obj Object
}

// NewUpdate starts an incremental update of the document r reads.
func NewUpdate(r *Reader) *Update {
	return &Update{r: r, next: r.NextObjectNumber(), objs: map[uint32]updateObject{}}
}

// Add stores o as a new object and returns its reference.
func (u *Update) Add(o Object) Ref {
	ref := u.Reserve()
	u.Set(ref, o)
	return ref
}

// Reserve allocates a new object number; set its value later with Set.
func (u *Update) Reserve() Ref {
	ref := Ref{Num: u.next}
	u.next++
	u.objs[ref.Num] = updateObject{gen: 0}
	return ref
}

// Set stores o as the new version of the object ref (an existing or reserved one).
func (u *Update) Set(ref Ref, o Object) {
	u.objs[ref.Num] = updateObject{gen: ref.Gen, obj: o}
}

// Written describes a serialized update.
type Written struct {
	// Bytes is the update, to be appended to the original file.
	Bytes []byte
	// Offsets gives, for each object of the update, its offset within Bytes.
	Offsets map[uint32]int64
}

// Bytes serializes the update as it will sit at file offset base (the original size). trailer supplies /Root,
// /Info and /ID; /Size and /Prev are set here. If the original does not end with an end-of-line marker, pass
// prefixEOL so that the update starts on a new line.
func (u *Update) Bytes(base int64, trailer Dict, prefixEOL bool) (*Written, error) {
	prevOff, kind := u.r.LastXref()
	var xrefRef Ref
	if kind == XrefStream {
		xrefRef = u.Reserve()
	}
	nums := make([]uint32, 0, len(u.objs))
	for n := range u.objs {
		if n != xrefRef.Num || kind != XrefStream {
			nums = append(nums, n)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	var b []byte
	if prefixEOL {
		b = append(b, '\n')
	}
	w := &Written{Offsets: map[uint32]int64{}}
	if err := u.r.encErr; err != nil {
		return nil, fmt.Errorf("pdf: update: %w", err)
	}
	rnd := u.Rand
	if rnd == nil {
		rnd = defaultRand
	}
	for _, n := range nums {
		uo := u.objs[n]
		if uo.obj == nil {
			return nil, fmt.Errorf("pdf: update: object %d reserved but never set", n)
		}
		if u.r.enc != nil {
			o, err := u.r.enc.encryptIndirect(Ref{Num: n, Gen: uo.gen}, uo.obj, rnd)
			if err != nil {
				return nil, fmt.Errorf("pdf: update: object %d: %w", n, err)
			}
			uo.obj = o
		}
		w.Offsets[n] = int64(len(b))
		b = strconv.AppendUint(b, uint64(n), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(uo.gen), 10)
		b = append(b, " obj\n"...)
		if s, ok := uo.obj.(*Stream); ok {
			d := s.Dict.Clone()
			d["Length"] = Integer(len(s.Raw))
			b = appendDict(b, d)
			b = append(b, "\nstream\n"...)
			b = append(b, s.Raw...)
			b = append(b, "\nendstream"...)
		} else {
			b = AppendObject(b, uo.obj)
		}
		b = append(b, "\nendobj\n"...)
	}
	size := u.next
	t := Dict{"Size": Integer(size), "Prev": Integer(prevOff)}
	for _, k := range []Name{"Root", "Info", "ID"} {
		if v := trailer[k]; v != nil {
			t[k] = v
		}
	}
	if u.r.enc != nil {
		t["Encrypt"] = u.r.newest.trailer["Encrypt"]
		if t["Encrypt"] == nil {
			for _, rv := range u.r.revs {
				if e := rv.Trailer["Encrypt"]; e != nil {
					t["Encrypt"] = e
				}
			}
		}
	}
	xrefOff := int64(len(b))
	switch kind {
	case XrefTable:
		b = append(b, "xref\n"...)
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			b = fmt.Appendf(b, "%d %d\n", nums[i], j-i+1)
			for k := i; k <= j; k++ {
				b = fmt.Appendf(b, "%010d %05d n\r\n", base+w.Offsets[nums[k]], u.objs[nums[k]].gen)
			}
			i = j + 1
		}
		b = append(b, "trailer\n"...)
		b = appendDict(b, t)
		b = append(b, '\n')
	case XrefStream:
		w.Offsets[xrefRef.Num] = xrefOff
		all := append(append([]uint32{}, nums...), xrefRef.Num)
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		maxOff := base + xrefOff
		width := 1
		for v := maxOff; v > 0xff; v >>= 8 {
			width++
		}
		var index Array
		var data []byte
		for i := 0; i < len(all); {
			j := i
			for j+1 < len(all) && all[j+1] == all[j]+1 {
				j++
			}
			index = append(index, Integer(all[i]), Integer(j-i+1))
			for k := i; k <= j; k++ {
				off := base + w.Offsets[all[k]]
				gen := u.objs[all[k]].gen
				data = append(data, 1)
				for s := width - 1; s >= 0; s-- {
					data = append(data, byte(off>>(8*s)))
				}
				data = append(data, byte(gen>>8), byte(gen))
			}
			i = j + 1
		}
		t["Type"] = Name("XRef")
		t["W"] = Array{Integer(1), Integer(width), Integer(2)}
		t["Index"] = index
		t["Length"] = Integer(len(data))
		b = strconv.AppendUint(b, uint64(xrefRef.Num), 10)
		b = append(b, " 0 obj\n"...)
		b = appendDict(b, t)
		b = append(b, "\nstream\n"...)
		b = append(b, data...)
		b = append(b, "\nendstream\nendobj\n"...)
	}
	b = fmt.Appendf(b, "startxref\n%d\n%%%%EOF\n", base+xrefOff)
	w.Bytes = b
	return w, nil
}
