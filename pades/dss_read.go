package pades

import (
	"crypto/x509"
	"fmt"
	"sort"

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
	// Problems lists entries that could not be read, or the entries beyond the bounds (MaxDSSEntries per array,
	// MaxDSSBytes in all), which were not read.
	Problems []string
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
	seen := map[pdf.Ref]bool{}
	revs := map[int]bool{}
	var total int64
	read := func(where string, o pdf.Object, kind pdf.Name) {
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
			if !ok || seen[ref] {
				continue
			}
			seen[ref] = true
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
			if rev := writtenIn(r, v, ref.Num); rev > 0 {
				revs[rev] = true
			}
			switch kind {
			case "Cert":
				c, err := x509.ParseCertificate(data)
				if err != nil {
					if c, err = cms.ParseCertificate(data); err != nil {
						d.Problems = append(d.Problems, fmt.Sprintf("%s: object %d is not a certificate", where, ref.Num))
						continue
					}
				}
				d.Data.Certificates = append(d.Data.Certificates, c)
			case "OCSP":
				d.Data.OCSP = append(d.Data.OCSP, data)
			case "CRL":
				d.Data.CRLs = append(d.Data.CRLs, data)
			}
		}
	}
	read("/DSS /Certs", dict["Certs"], "Cert")
	read("/DSS /OCSPs", dict["OCSPs"], "OCSP")
	read("/DSS /CRLs", dict["CRLs"], "CRL")
	if vri, err := v.Dict(dict["VRI"]); err == nil && vri != nil {
		n := 0
		for k, e := range vri {
			if n++; n > MaxDSSEntries {
				d.Problems = append(d.Problems, fmt.Sprintf("/DSS /VRI holds more than %d entries: the rest is not read", MaxDSSEntries))
				break
			}
			d.VRI = append(d.VRI, string(k))
			ed, err := v.Dict(e)
			if err != nil || ed == nil {
				continue
			}
			for _, kk := range []pdf.Name{"Cert", "OCSP", "CRL"} {
				read("/DSS /VRI /"+string(k)+" /"+string(kk), ed[kk], kk)
			}
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
