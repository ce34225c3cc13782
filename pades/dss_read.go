package pades

import (
	"crypto/x509"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/revocation"
)

// DSS is the document security store (the catalog's /DSS, ISO 32000-2 12.8.4.3) as the newest revision holds it:
// the validation data a verifier may use for the signatures before it.
type DSS struct {
	// Data holds the certificates of /Certs, the OCSP responses of /OCSPs and the CRLs of /CRLs, and those the
	// /VRI entries name besides them, each once.
	Data revocation.Data
	// VRI lists the keys of the /VRI entries (upper-case hex SHA-1 of a signature's /Contents).
	VRI []string
	// Revisions lists the revisions that wrote the streams of Data, oldest first.
	Revisions []int
	// vri is, per VRI key, the data its entry names and the newest revision that wrote it.
	vri map[string]vriRead
	// Problems lists entries that could not be read, or the entries beyond the bounds (MaxDSSEntries per array,
	// MaxDSSBytes in all), which were not read.
	Problems []string
}

// vriRead is what one VRI entry names.
type vriRead struct {
	data   revocation.Data
	newest int
}

// MaxDSSBytes bounds the decoded validation data Verify reads from the DSS.
const MaxDSSBytes = 32 << 20

// readDSS reads the DSS of the newest revision; nil when there is none.
func readDSS(r *pdf.Reader) *DSS {
	v := r.Latest()
	cat, _, err := v.Catalog()
	if err != nil || cat["DSS"] == nil {
		return nil
	}
	d := &DSS{}
	dict, err := v.Dict(cat["DSS"])
	if err != nil || dict == nil {
		d.Problems = append(d.Problems, "/DSS is not a dictionary")
		return d
	}
	type item struct {
		cert *x509.Certificate
		data []byte
		rev  int
	}
	seen := map[pdf.Ref]*item{}
	revs := map[int]bool{}
	var total int64
	// vriValues counts the values the VRI entries name, all entries together: many entries may name one large
	// array, and each entry keeps its own list
	vriValues, vriFull := 0, false
	// read adds the streams of the array o to d.Data (each once) and to into, when it is not nil.
	read := func(where string, o pdf.Object, kind pdf.Name, into *vriRead) {
		x, err := v.Resolve(o)
		if err != nil || x == nil {
			return
		}
		arr, ok := x.(pdf.Array)
		if !ok {
			d.Problems = append(d.Problems, where+" is not an array")
			return
		}
		if len(arr) > MaxDSSEntries {
			d.Problems = append(d.Problems, fmt.Sprintf("%s holds %d entries, more than %d: not read", where, len(arr), MaxDSSEntries))
			return
		}
		for _, e := range arr {
			ref, ok := e.(pdf.Ref)
			if !ok {
				continue
			}
			if into != nil {
				if vriValues++; vriValues > MaxDSSEntries {
					if !vriFull {
						vriFull = true
						d.Problems = append(d.Problems, fmt.Sprintf("the /DSS /VRI entries name more than %d values in all: the rest is not read", MaxDSSEntries))
					}
					return
				}
			}
			if it, done := seen[ref]; done {
				if it != nil && into != nil {
					into.add(kind, it.cert, it.data, it.rev)
				}
				continue
			}
			seen[ref] = nil
			if total > MaxDSSBytes {
				d.Problems = append(d.Problems, fmt.Sprintf("more than %d bytes of validation data: the rest is not read", MaxDSSBytes))
				return
			}
			data, err := dssStream(v, ref)
			if err != nil {
				d.Problems = append(d.Problems, fmt.Sprintf("%s: object %d cannot be read", where, ref.Num))
				continue
			}
			total += int64(len(data))
			it := &item{data: data, rev: writtenIn(r, v, ref.Num)}
			if it.rev > 0 {
				revs[it.rev] = true
			}
			if kind == "Cert" {
				c, err := x509.ParseCertificate(data)
				if err != nil {
					if c, err = cms.ParseCertificate(data); err != nil {
						d.Problems = append(d.Problems, fmt.Sprintf("%s: object %d is not a certificate", where, ref.Num))
						continue
					}
				}
				it.cert = c
			}
			seen[ref] = it
			addData(&d.Data, kind, it.cert, it.data)
			if into != nil {
				into.add(kind, it.cert, it.data, it.rev)
			}
		}
	}
	read("/DSS /Certs", dict["Certs"], "Cert", nil)
	read("/DSS /OCSPs", dict["OCSPs"], "OCSP", nil)
	read("/DSS /CRLs", dict["CRLs"], "CRL", nil)
	if vri, err := v.Dict(dict["VRI"]); err == nil && vri != nil {
		n := 0
		for k, e := range vri {
			if vriFull {
				break
			}
			if n++; n > MaxDSSEntries {
				d.Problems = append(d.Problems, fmt.Sprintf("/DSS /VRI holds more than %d entries: the rest is not read", MaxDSSEntries))
				break
			}
			d.VRI = append(d.VRI, string(k))
			ed, err := v.Dict(e)
			if err != nil || ed == nil {
				continue
			}
			one := &vriRead{}
			for _, kk := range []pdf.Name{"Cert", "OCSP", "CRL"} {
				read("/DSS /VRI /"+string(k)+" /"+string(kk), ed[kk], kk, one)
			}
			if vriFull {
				break // an entry read in part is not kept: its signature gets the whole DSS, as one without an entry
			}
			if d.vri == nil {
				d.vri = map[string]vriRead{}
			}
			d.vri[strings.ToUpper(string(k))] = *one
		}
		sort.Strings(d.VRI)
	}
	for k := range revs {
		d.Revisions = append(d.Revisions, k)
	}
	sort.Ints(d.Revisions)
	return d
}

// writtenIn returns the revision that wrote the current version of object num (0 when unknown).
func writtenIn(r *pdf.Reader, v pdf.View, num uint32) int {
	loc := v.Location(num)
	for i := 0; loc.Kind == 2 && i < 2; i++ {
		loc = v.Location(uint32(loc.Offset)) // the object stream holding it
	}
	if loc.Kind != 1 {
		return 0
	}
	revs := r.Revisions()
	for i, rv := range revs {
		end := rv.End
		if i+1 < len(revs) {
			end = revs[i+1].Start
		}
		if loc.Offset >= rv.Start && (end < 0 || loc.Offset < end) {
			return rv.Number
		}
	}
	return 0
}

// newest returns the newest revision that wrote validation data (0 when none).
func (d *DSS) newest() int {
	if d == nil || len(d.Revisions) == 0 {
		return 0
	}
	return d.Revisions[len(d.Revisions)-1]
}

func (v *vriRead) add(kind pdf.Name, cert *x509.Certificate, data []byte, rev int) {
	addData(&v.data, kind, cert, data)
	v.newest = max(v.newest, rev)
}

// addData appends one stream's content to d by its kind (a certificate, an OCSP response, a CRL).
func addData(d *revocation.Data, kind pdf.Name, cert *x509.Certificate, data []byte) {
	switch kind {
	case "Cert":
		if cert != nil {
			d.Certificates = append(d.Certificates, cert)
		}
	case "OCSP":
		d.OCSP = append(d.OCSP, data)
	case "CRL":
		d.CRLs = append(d.CRLs, data)
	}
}

// forSignature returns the validation data a verifier may use for the signature whose /Contents is contents and
// which covers revision covered, the newest revision that wrote it, and how many of its leading OCSP responses and
// CRLs that revision dates. With a VRI entry: the data the entry names, then the DSS's other OCSP responses and
// CRLs (a VRI entry is optional and names what its writer chose: it cannot hide a revocation the same DSS holds),
// with all the DSS's certificates, dated by the entry's newest revision (the others may be newer). Without one, or
// when the entry was written before the signature: the whole DSS, dated by its newest revision. Nothing when that
// data was all written before the signature.
func (d *DSS) forSignature(contents []byte, covered int) (data revocation.Data, newest, datedOCSP, datedCRLs int) {
	if d == nil || covered <= 0 {
		return revocation.Data{}, 0, 0, 0
	}
	e, ok := d.vri[string(vriKeyOf(contents))]
	if n := derLength(contents); !ok && n > 0 && n < len(contents) {
		e, ok = d.vri[string(vriKeyOf(contents[:n]))] // some producers hash the CMS without its padding
	}
	if ok && e.newest > covered {
		data = e.data
		data.Certificates = append(append([]*x509.Certificate{}, e.data.Certificates...), d.Data.Certificates...)
		data.OCSP = appendOthers(slices.Clip(e.data.OCSP), d.Data.OCSP)
		data.CRLs = appendOthers(slices.Clip(e.data.CRLs), d.Data.CRLs)
		return data, e.newest, len(e.data.OCSP), len(e.data.CRLs)
	}
	if n := d.newest(); n > covered {
		return d.Data, n, len(d.Data.OCSP), len(d.Data.CRLs)
	}
	return revocation.Data{}, 0, 0, 0
}

// appendOthers appends to named the values of all it does not hold.
func appendOthers(named, all [][]byte) [][]byte {
	have := make(map[string]bool, len(named))
	for _, b := range named {
		have[string(b)] = true
	}
	for _, b := range all {
		if !have[string(b)] {
			named = append(named, b)
		}
	}
	return named
}
