package pades

import (
	"fmt"

	"github.com/trustsign/trustsign/pdf"
)

// fieldName returns the fully qualified name of field num as of before (or after) the revision.
func (c *classifier) fieldName(num uint32, before, after pdf.View) string {
	if n := c.names[before.Revision()][num]; n != "" {
		return n
	}
	return c.names[after.Revision()][num]
}

// widgetField returns the name of the field a (kid) widget belongs to.
func (c *classifier) widgetField(d pdf.Dict, after pdf.View) string {
	if p, ok := d["Parent"].(pdf.Ref); ok {
		return c.names[after.Revision()][p.Num]
	}
	return ""
}

func (c *classifier) acroFormDiff(db, da pdf.Dict, before, after pdf.View) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		switch k {
		case "Fields":
			if bothIndirect(db, da, k) {
				continue
			}
			fb, _ := before.Resolve(db[k])
			fa, _ := after.Resolve(da[k])
			out = append(out, c.fieldsDiff(fb, fa, before, after)...)
		case "SigFlags":
			out = append(out, mkVerdict(ChangeSignature, permitSignature, "form /SigFlags set"))
		case "DR", "DA", "NeedAppearances":
			out = append(out, mkVerdict(ChangeFormFill, permitFormFill, "form /"+string(k)+" changed"))
		default:
			out = append(out, mkVerdict(ChangeOther, permitNever, "form /"+string(k)+" changed"))
		}
	}
	return out
}

// fieldsDiff judges a changed list of fields (/Fields or /Kids): removing fields is never allowed; a new
// signature field is a signature, any other new field a form change.
func (c *classifier) fieldsDiff(ob, oa pdf.Object, before, after pdf.View) []verdict {
	added, removed := refDiff(ob, oa, before, after)
	var out []verdict
	for _, r := range added {
		d, _ := after.Dict(r)
		if ft, _ := d.Name("FT"); ft == "Sig" {
			out = append(out, mkVerdict(ChangeSignature, permitSignature, fmt.Sprintf("signature field %q added", pdf.Text(d["T"]))))
		} else {
			out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, fmt.Sprintf("form field %q added", pdf.Text(d["T"]))))
		}
	}
	for _, r := range removed {
		d, _ := before.Dict(r)
		out = append(out, mkVerdict(ChangeOther, permitNever, fmt.Sprintf("form field %q removed", pdf.Text(d["T"]))))
	}
	return out
}

// fieldType returns a field's /FT, inherited through /Parent.
func fieldType(v pdf.View, d pdf.Dict) pdf.Name {
	for i := 0; i < 32 && d != nil; i++ {
		if ft, ok := d.Name("FT"); ok {
			return ft
		}
		d, _ = v.Dict(d["Parent"])
	}
	return ""
}

// Field keys a form-filling revision may change.
var fillKeys = map[pdf.Name]bool{"V": true, "AP": true, "AS": true, "MK": true, "DA": true, "DV": true, "Ff": true, "Lock": true, "SV": true}

// Widget annotation keys: changing them is an annotation change.
var widgetKeys = map[pdf.Name]bool{"Rect": true, "F": true, "Border": true, "BS": true, "C": true, "H": true, "NM": true,
	"M": true, "StructParent": true, "Contents": true, "OC": true, "Q": true}

func (c *classifier) fieldDiff(obj string, db, da pdf.Dict, sig bool, before, after pdf.View) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		switch {
		case k == "V" && sig:
			if db["V"] == nil {
				out = append(out, mkVerdict(ChangeSignature, permitSignature, obj+": signature field signed"))
			} else {
				out = append(out, mkVerdict(ChangeSignatureDict, permitNever, obj+": signed field's signature replaced or removed"))
			}
		case k == "Kids":
			if !bothIndirect(db, da, k) {
				out = append(out, c.fieldsDiff(db[k], da[k], before, after)...)
			}
		case fillKeys[k]:
			if sig {
				out = append(out, mkVerdict(ChangeSignature, permitSignature, obj+": signature field /"+string(k)+" changed"))
			} else {
				out = append(out, mkVerdict(ChangeFormFill, permitFormFill, obj+": field /"+string(k)+" changed"))
			}
		case widgetKeys[k]:
			out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, obj+": widget /"+string(k)+" changed"))
		default:
			out = append(out, mkVerdict(ChangeOther, permitNever, obj+": field /"+string(k)+" changed"))
		}
	}
	return out
}

func widgetDiff(obj string, db, da pdf.Dict, sig bool) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		switch {
		case fillKeys[k] && sig:
			out = append(out, mkVerdict(ChangeSignature, permitSignature, obj+": signature widget /"+string(k)+" changed"))
		case fillKeys[k]:
			out = append(out, mkVerdict(ChangeFormFill, permitFormFill, obj+": widget /"+string(k)+" changed"))
		case widgetKeys[k]:
			out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, obj+": widget /"+string(k)+" changed"))
		default:
			out = append(out, mkVerdict(ChangeOther, permitNever, obj+": widget /"+string(k)+" changed"))
		}
	}
	return out
}
