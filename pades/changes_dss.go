package pades

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/trustsign/trustsign/pdf"
)

// The validation data and metadata rules. A later revision may add or extend the document security store
// (/DSS: certificates, OCSP responses and CRLs in streams, and VRI entries per signature), as PAdES LTV updates
// do, even after a DocMDP P=1 certification; it may not give the DSS any other shape, rewrite a stream the DSS
// already held, change or remove an existing VRI entry, or remove the DSS. It may update the XMP metadata stream
// (unless P=1), which must then still be XMP.

// dssCheck caches the structural verdict on the DSS of one revision.
type dssCheck struct{ problem string }

var vriKey = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

// dssProblem returns why the DSS after the revision is not an acceptable validation data store ("" if it is).
func (c *classifier) dssProblem(rc *revCtx) string {
	if rc.dss == nil {
		rc.dss = &dssCheck{problem: checkDSS(rc.before, rc.after)}
	}
	return rc.dss.problem
}

func checkDSS(before, after pdf.View) string {
	cat, _, err := after.Catalog()
	if err != nil {
		return "the catalog cannot be read"
	}
	if cat["DSS"] == nil {
		return ""
	}
	o, err := after.Resolve(cat["DSS"])
	d, ok := o.(pdf.Dict)
	if err != nil || !ok {
		return "/DSS is not a dictionary"
	}
	var vri pdf.Dict
	for k, v := range d {
		switch k {
		case "Type":
			if n, ok := v.(pdf.Name); !ok || n != "DSS" {
				return "/DSS /Type is not /DSS"
			}
		case "Certs", "OCSPs", "CRLs":
			if p := streamRefs(after, v); p != "" {
				return "/DSS /" + string(k) + " " + p
			}
		case "VRI":
			x, err := after.Resolve(v)
			if vri, ok = x.(pdf.Dict); err != nil || !ok {
				return "/DSS /VRI is not a dictionary"
			}
			if p := checkVRI(after, vri); p != "" {
				return p
			}
		default:
			return fmt.Sprintf("unexpected entry /%s in the DSS", k)
		}
	}
	// Entries the DSS held before stay as they were.
	if cb, _, err := before.Catalog(); err == nil {
		if old, err := before.Dict(cb["DSS"]); err == nil && old != nil {
			oldVRI, _ := before.Dict(old["VRI"])
			for k, v := range oldVRI {
				if !pdf.Equal(vri[k], v) {
					return fmt.Sprintf("VRI entry /%s changed or removed", k)
				}
			}
		}
	}
	return ""
}

func checkVRI(v pdf.View, vri pdf.Dict) string {
	if len(vri) > MaxDSSEntries {
		return fmt.Sprintf("/DSS /VRI holds %d entries, more than %d", len(vri), MaxDSSEntries)
	}
	// an array many entries name (one indirect object) is checked once: thousands of entries may name one
	// array of thousands of streams
	checked := map[pdf.Ref]bool{}
	for k, e := range vri {
		if !vriKey.MatchString(string(k)) {
			return fmt.Sprintf("VRI key /%s is not a SHA-1 hash in hex", k)
		}
		x, err := v.Resolve(e)
		d, ok := x.(pdf.Dict)
		if err != nil || !ok {
			return fmt.Sprintf("VRI entry /%s is not a dictionary", k)
		}
		for kk, vv := range d {
			switch kk {
			case "Type", "TU":
			case "Cert", "CRL", "OCSP":
				if r, ok := vv.(pdf.Ref); ok {
					if checked[r] {
						continue
					}
					checked[r] = true
				}
				if p := streamRefs(v, vv); p != "" {
					return fmt.Sprintf("VRI entry /%s /%s %s", k, kk, p)
				}
			case "TS":
				if p := streamRefs(v, pdf.Array{vv}); p != "" {
					return fmt.Sprintf("VRI entry /%s /TS %s", k, p)
				}
			default:
				return fmt.Sprintf("unexpected entry /%s in VRI entry /%s", kk, k)
			}
		}
	}
	return ""
}

// streamRefs checks that o is an array of references to streams.
func streamRefs(v pdf.View, o pdf.Object) string {
	x, err := v.Resolve(o)
	a, ok := x.(pdf.Array)
	if err != nil || !ok {
		return "is not an array"
	}
	if len(a) > MaxDSSEntries {
		return fmt.Sprintf("holds %d entries, more than %d", len(a), MaxDSSEntries)
	}
	for _, e := range a {
		r, ok := e.(pdf.Ref)
		if !ok {
			return "holds a direct object instead of a stream reference"
		}
		if s, err := v.Get(r); err != nil {
			return "names an unreadable object"
		} else if _, ok := s.(*pdf.Stream); !ok {
			return "names an object that is not a stream"
		}
	}
	return ""
}

// dssEntry judges a change of the catalog's /DSS entry (now val).
func (c *classifier) dssEntry(rc *revCtx, val pdf.Object) verdict {
	if val == nil {
		return mkVerdict(ChangeDSS, permitNever, "validation data (DSS) removed")
	}
	if p := c.dssProblem(rc); p != "" {
		return mkVerdict(ChangeDSS, permitNever, p)
	}
	return mkVerdict(ChangeDSS, permitDSS, "catalog /DSS updated")
}

// dssObject judges a changed or new object of the DSS.
func (c *classifier) dssObject(rc *revCtx, num uint32, ob, oa pdf.Object) verdict {
	if p := c.dssProblem(rc); p != "" {
		return mkVerdict(ChangeDSS, permitNever, p)
	}
	if ob == nil {
		return mkVerdict(ChangeDSS, permitDSS, "new validation data")
	}
	if !extensibleDSS(rc.after)[num] {
		return mkVerdict(ChangeDSS, permitNever, fmt.Sprintf("object %d: validation data the DSS held rewritten", num))
	}
	return mkVerdict(ChangeDSS, permitDSS, fmt.Sprintf("object %d: validation data (DSS) updated", num))
}

// extensibleDSS returns the existing objects of the DSS a later revision may rewrite: the DSS dictionary, its
// /VRI dictionary and its /Certs, /OCSPs and /CRLs arrays (to add entries). The streams and VRI entries they
// hold stay as they were.
func extensibleDSS(v pdf.View) map[uint32]bool {
	out := map[uint32]bool{}
	cat, _, err := v.Catalog()
	if err != nil {
		return out
	}
	if r, ok := cat["DSS"].(pdf.Ref); ok {
		out[r.Num] = true
	}
	d, _ := v.Dict(cat["DSS"])
	for _, k := range []pdf.Name{"VRI", "Certs", "OCSPs", "CRLs"} {
		if r, ok := d[k].(pdf.Ref); ok {
			out[r.Num] = true
		}
	}
	return out
}

// metadataObject judges a changed or new metadata stream: it must be XMP.
func (c *classifier) metadataObject(v pdf.View, num uint32, oa pdf.Object) verdict {
	s, ok := oa.(*pdf.Stream)
	if !ok {
		return mkVerdict(ChangeOther, permitNever, fmt.Sprintf("object %d: metadata replaced by something that is not a stream", num))
	}
	data, err := c.r.DecodeStream(s, v)
	if err != nil || !isXMP(data) {
		return mkVerdict(ChangeOther, permitNever, fmt.Sprintf("object %d: metadata stream replaced by something that is not XMP", num))
	}
	return mkVerdict(ChangeMetadata, permitMetadata, fmt.Sprintf("object %d: XMP metadata updated", num))
}

// isXMP reports whether data is well-formed XML whose root is x:xmpmeta or rdf:RDF.
func isXMP(data []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	root := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return root
		}
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && !root {
			if se.Name.Local != "xmpmeta" && se.Name.Local != "RDF" {
				return false
			}
			root = true
		}
	}
}
