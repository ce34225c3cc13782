package pades

import (
	"fmt"
	"slices"
	"sort"
	"strings"

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

// acroFormDiff judges a changed interactive form dictionary.
func (c *classifier) acroFormDiff(rc *revCtx, db, da pdf.Dict) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		switch k {
		case "Fields":
			fv := c.fieldsDiff(rc, db[k], da[k])
			if len(fv) == 0 {
				fv = append(fv, explained("form /Fields moved to another object, same fields"))
			}
			out = append(out, fv...)
		case "SigFlags":
			out = append(out, mkVerdict(ChangeSignature, permitSignature, "form /SigFlags set"))
		case "DR", "DA":
			v := mkVerdict(ChangeFormFill, permitFormFill, "form /"+string(k)+" changed")
			if k == "DA" || !c.resourcesOnlyAdded(rc, db[k], da[k]) {
				v.fields = c.redrawnFields(rc)
			}
			out = append(out, v)
		case "NeedAppearances":
			// The viewer then draws every field from its value, /DA and the form's /DR; a locked field's value
			// cannot change (its /V is judged with it), and changes to /DA and /DR are judged below.
			out = append(out, mkVerdict(ChangeFormFill, permitFormFill, "form /"+string(k)+" changed"))
		default:
			out = append(out, mkVerdict(ChangeOther, permitNever, "form /"+string(k)+" changed"))
		}
	}
	return out
}

// fieldsDiff judges a changed list of fields (/Fields or /Kids): removing fields is never allowed; a new
// signature field is a signature, any other new field a form change, each under the names a FieldMDP lock
// checks (addedField).
func (c *classifier) fieldsDiff(rc *revCtx, ob, oa pdf.Object) []verdict {
	before, after := rc.before, rc.after
	added, removed := refDiff(ob, oa, before, after)
	var out []verdict
	for _, r := range added {
		d, _ := after.Dict(r)
		if fieldType(after, d) == "Sig" {
			out = append(out, c.addedField(rc, r, true, mkVerdict(ChangeSignature, permitSignature, fmt.Sprintf("signature field %q added", qualifiedName(after, d)))))
		} else {
			out = append(out, c.addedField(rc, r, false, mkVerdict(ChangeAnnotation, permitAnnotation, fmt.Sprintf("form field %q added", qualifiedName(after, d)))))
		}
	}
	for _, r := range removed {
		d, _ := before.Dict(r)
		out = append(out, mkVerdict(ChangeOther, permitNever, fmt.Sprintf("form field %q removed", pdf.Text(d["T"]))))
	}
	return out
}

// redrawnFields returns, when the form after the revision asks the viewer to draw the fields' appearances itself
// (/NeedAppearances true), the names of every form field before the revision: a change to the form's default
// appearance or resources then changes how each of them is drawn (a /DR font mapping other glyphs, a /DA in
// white), so a lock on any of them refuses it. Without /NeedAppearances a viewer shows the fields' own
// appearance streams, which such a change does not touch (an appearance sharing an object with /DR is judged
// by the appearance rule).
func (c *classifier) redrawnFields(rc *revCtx) []string {
	cat, _, err := rc.after.Catalog()
	if err != nil {
		return nil
	}
	form, _ := rc.after.Dict(cat["AcroForm"])
	if need, _ := rc.after.Resolve(form["NeedAppearances"]); need != pdf.Bool(true) {
		return nil
	}
	fn := c.oldFieldNames(rc)
	var out []string
	for _, n := range fn.sorted {
		if !fn.sig[n] {
			out = append(out, n)
		}
	}
	return out
}

// resourcesOnlyAdded reports whether a resource dictionary (the form's /DR) after the revision keeps every
// entry it had before unchanged, only adding new ones (a font for a newly drawn appearance).
func (c *classifier) resourcesOnlyAdded(rc *revCtx, ob, oa pdf.Object) bool {
	db, err := rc.before.Dict(ob)
	if err != nil {
		return false
	}
	da, err := rc.after.Dict(oa)
	if err != nil || (db != nil && da == nil) {
		return false
	}
	for cat, x := range db {
		cb, errB := rc.before.Dict(x)
		ca, errA := rc.after.Dict(da[cat])
		if errB != nil || errA != nil || cb == nil || ca == nil {
			if !pdf.Equal(x, da[cat]) {
				return false
			}
			continue
		}
		for name, e := range cb {
			if !pdf.Equal(e, ca[name]) {
				return false
			}
		}
	}
	return true
}

// qualifiedName returns the fully qualified name of a field or widget the way a viewer reads it: the partial
// names (/T) up its /Parent chain, joined by dots.
func qualifiedName(v pdf.View, d pdf.Dict) string {
	var parts []string
	for i := 0; i < 32 && d != nil; i++ {
		if t := pdf.Text(d["T"]); t != "" {
			parts = append(parts, t)
		}
		d, _ = v.Dict(d["Parent"])
	}
	slices.Reverse(parts)
	return strings.Join(parts, ".")
}

// fieldNames are the fully qualified names of the fields before a revision, sorted, and which of them are
// (only) signature fields.
type fieldNames struct {
	sorted []string
	sig    map[string]bool
}

func (c *classifier) oldFieldNames(rc *revCtx) *fieldNames {
	if rc.oldNames != nil {
		return rc.oldNames
	}
	fn := &fieldNames{sig: map[string]bool{}}
	other := map[string]bool{}
	for num, n := range c.names[rc.k-1] {
		if n == "" {
			continue
		}
		if rc.rb[num]&(rSigField|rSigWidget) != 0 {
			fn.sig[n] = true
		} else {
			other[n] = true
		}
	}
	for n := range other {
		delete(fn.sig, n)
	}
	for n := range fn.sig {
		other[n] = true
	}
	for n := range other {
		fn.sorted = append(fn.sorted, n)
	}
	sort.Strings(fn.sorted)
	rc.oldNames = fn
	return fn
}

// related returns the names of fields before the revision that name equals, falls under, or holds; each name
// looked at counts against steps.
func (fn *fieldNames) related(name string, sig bool, steps *int) []string {
	var out []string
	keep := func(n string) { // the names kept are distinct: sorted holds each once
		*steps++
		if !(sig && fn.sig[n]) {
			out = append(out, n)
		}
	}
	// name and its ancestors
	for p := name; p != ""; {
		if _, ok := slices.BinarySearch(fn.sorted, p); ok {
			keep(p)
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	// the fields under name
	i, _ := slices.BinarySearch(fn.sorted, name+".")
	for ; i < len(fn.sorted) && strings.HasPrefix(fn.sorted[i], name+".") && *steps <= maxScopeSteps; i++ {
		keep(fn.sorted[i])
	}
	return out
}

// addedField gives v, the verdict on a field or widget ref the revision adds, the names a FieldMDP lock checks:
// for a form field, the fully qualified names of it and of every field and widget under it (as the form's tree
// names them and as their /Parent chains do, since a viewer may read either); for both a form and a signature
// field, every name of an existing field that one of them equals, falls under or holds (two fields with one
// name are one field to a viewer). A signature field added next to an existing signature field of its name is
// left to the signature rules.
func (c *classifier) addedField(rc *revCtx, ref pdf.Ref, sig bool, v verdict) verdict {
	tooMany := mkVerdict(ChangeOther, permitNever, fmt.Sprintf("object %d: fields added with more fields under them than the analysis follows", ref.Num))
	var own []string
	ownSet := map[string]bool{}
	seen := map[uint32]bool{}
	queue := []pdf.Ref{ref}
	for len(queue) > 0 {
		if rc.addSteps++; rc.addSteps > maxScopeSteps {
			return tooMany // hostile fan-out: refused, not guessed at
		}
		r := queue[0]
		queue = queue[1:]
		if seen[r.Num] {
			continue
		}
		seen[r.Num] = true
		d, _ := rc.after.Dict(r)
		for _, n := range []string{c.names[rc.k][r.Num], qualifiedName(rc.after, d)} {
			if n != "" && !ownSet[n] {
				ownSet[n] = true
				own = append(own, n)
			}
		}
		kids, _ := rc.after.Resolve(d["Kids"])
		if a, ok := kids.(pdf.Array); ok {
			for _, e := range a {
				if kr, ok := e.(pdf.Ref); ok && !seen[kr.Num] {
					if rc.addSteps++; rc.addSteps > maxScopeSteps {
						return tooMany
					}
					queue = append(queue, kr)
				}
			}
		}
	}
	fn := c.oldFieldNames(rc)
	var names []string
	have := map[string]bool{}
	keep := func(n string) {
		if !have[n] {
			have[n] = true
			names = append(names, n)
		}
	}
	for _, n := range own {
		if !sig {
			keep(n)
		}
		for _, e := range fn.related(n, sig, &rc.addSteps) {
			keep(e)
		}
	}
	if rc.addSteps > maxScopeSteps {
		return tooMany
	}
	v.fields, v.adds = names, true
	return v
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

// Field keys a form-filling revision may change (/I and /TI: the selected and the top option of a choice field).
var fillKeys = map[pdf.Name]bool{"V": true, "AP": true, "AS": true, "MK": true, "DA": true, "DV": true, "Ff": true,
	"Lock": true, "SV": true, "I": true, "TI": true}

// Widget annotation keys: changing them is an annotation change.
var widgetKeys = map[pdf.Name]bool{"Rect": true, "F": true, "Border": true, "BS": true, "C": true, "H": true, "NM": true,
	"M": true, "StructParent": true, "Contents": true, "OC": true, "Q": true}

// fieldDiff judges a changed form field (merged with its widget or not).
func (c *classifier) fieldDiff(rc *revCtx, num uint32, db, da pdf.Dict, sig bool) []verdict {
	name := c.fieldName(num, rc.before, rc.after)
	obj := fmt.Sprintf("object %d", num)
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
			kv := c.fieldsDiff(rc, db[k], da[k])
			if len(kv) == 0 {
				// No field added or removed: the same kids in another object, or no list of fields at all.
				was, is := refsOf(rc.before, db[k]), refsOf(rc.after, da[k])
				if len(was) > 0 && slices.Equal(was, is) {
					kv = append(kv, explained(obj+": field /Kids moved to another object, same kids"))
				} else {
					kv = append(kv, mkVerdict(ChangeOther, permitNever, obj+": field /Kids changed"))
				}
			}
			out = append(out, kv...)
		default:
			out = append(out, c.fieldKey(rc, obj, name, k, sig, "field"))
		}
	}
	return append(out, c.sharedAPSwap(rc, num, name, db, da)...)
}

// sharedAPSwap refuses replacing an indirect /AP dictionary that something besides this field also uses, even by
// a new one: the old dictionary then shows one thing here and another there, the shape of pyHanko's sneaky
// appearance files (pyHanko refuses it the same way).
func (c *classifier) sharedAPSwap(rc *revCtx, num uint32, name string, db, da pdf.Dict) []verdict {
	old, ok := db["AP"].(pdf.Ref)
	if !ok || pdf.Equal(db["AP"], da["AP"]) {
		return nil
	}
	own := rc.form.byName[name]
	if name == "" {
		own = []uint32{num}
	}
	for _, r := range rc.refsB[old.Num] {
		if r != num && !slices.Contains(own, r) {
			return []verdict{mkVerdict(ChangeOther, permitNever, fmt.Sprintf("object %d: appearance dictionary %d, also used by %s, replaced", num, old.Num, c.describe(rc, r)))}
		}
	}
	return nil
}

// widgetDiff judges a changed widget annotation that is not itself a field.
func (c *classifier) widgetDiff(rc *revCtx, num uint32, db, da pdf.Dict, sig bool) []verdict {
	name := c.fieldName(num, rc.before, rc.after)
	if name == "" {
		name = c.widgetField(da, rc.after)
	}
	obj := fmt.Sprintf("object %d", num)
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		out = append(out, c.fieldKey(rc, obj, name, k, sig, "widget"))
	}
	return append(out, c.sharedAPSwap(rc, num, name, db, da)...)
}

// fieldKey judges one changed key of a field or widget: filling keys are form filling (a signature field's are
// part of signing it, and not allowed once it is signed), widget keys an annotation change, anything else not
// allowed.
func (c *classifier) fieldKey(rc *revCtx, obj, name string, k pdf.Name, sig bool, what string) verdict {
	switch {
	case fillKeys[k] && sig && rc.form.signedBefore[name]:
		return mkVerdict(ChangeOther, permitNever, fmt.Sprintf("%s: /%s of signature field %q changed after it was signed", obj, k, name))
	case fillKeys[k] && sig:
		return mkVerdict(ChangeSignature, permitSignature, obj+": signature "+what+" /"+string(k)+" changed")
	case fillKeys[k]:
		v := mkVerdict(ChangeFormFill, permitFormFill, obj+": "+what+" /"+string(k)+" changed")
		if name != "" {
			v.fields = []string{name}
		}
		return v
	case widgetKeys[k]:
		v := mkVerdict(ChangeAnnotation, permitAnnotation, obj+": widget /"+string(k)+" changed")
		if name != "" && !sig {
			v.fields = []string{name} // moving or hiding a locked field's widget changes what it shows
		}
		return v
	}
	return mkVerdict(ChangeOther, permitNever, obj+": "+what+" /"+string(k)+" changed")
}

// The appearance rule. An object reachable from a field's appearance (/AP, /MK) or value may change only when
// the revision fills that field (or signs that signature field) and when the field owns it: every object that
// refers to it, and to every object on the way from the field to it, belongs to the fields being filled. So
// overwriting an appearance stream or an indirect /AP dictionary that another widget, the page, the catalog or
// the trailer also uses is refused, whether or not the overwritten object keeps its number.

// formScope records the form fields a revision fills and what their appearances reach.
type formScope struct {
	byName       map[string][]uint32 // field and widget objects per fully qualified name, before and after
	filled       map[string]bool     // fields the revision fills or signs
	sig          map[string]bool     // signature fields
	signedBefore map[string]bool     // signature fields holding a signature before the revision
	roots        map[uint32]bool     // the field and widget objects of the filled fields
	owners       map[uint32][]string // objects reachable from a filled field's appearance or value: its fields
	shareSteps   int                 // work done by sharedWith in this revision (bounded by maxScopeSteps)
}

const maxScopeSteps = 200_000 // per revision; past it, objects are not owned and their changes refused

func (c *classifier) formScopes(rc *revCtx) *formScope {
	fs := &formScope{byName: map[string][]uint32{}, filled: map[string]bool{}, sig: map[string]bool{},
		signedBefore: map[string]bool{}, roots: map[uint32]bool{}, owners: map[uint32][]string{}}
	for _, names := range []map[uint32]string{c.names[rc.k-1], c.names[rc.k]} {
		for num, n := range names {
			if !slices.Contains(fs.byName[n], num) {
				fs.byName[n] = append(fs.byName[n], num)
			}
		}
	}
	order := make([]string, 0, len(fs.byName))
	for n := range fs.byName {
		order = append(order, n)
	}
	sort.Strings(order)
	for _, n := range order {
		nums := fs.byName[n]
		changed := false
		for _, num := range nums {
			changed = changed || rc.changed[num]
			if (rc.rb[num]|rc.ra[num])&(rSigField|rSigWidget) != 0 {
				fs.sig[n] = true
			}
		}
		if fs.sig[n] {
			for _, num := range nums {
				if d, _ := rc.before.Dict(pdf.Ref{Num: num, Gen: rc.before.Location(num).Gen}); d != nil && d["V"] != nil {
					fs.signedBefore[n] = true
				}
			}
		}
		if !changed || fs.signedBefore[n] {
			continue
		}
		fs.filled[n] = true
		for _, num := range nums {
			fs.roots[num] = true
		}
	}
	steps := 0
	for _, n := range order {
		if !fs.filled[n] {
			continue
		}
		for _, v := range []pdf.View{rc.before, rc.after} {
			seen := map[uint32]bool{}
			for _, num := range fs.byName[n] {
				d, _ := v.Dict(pdf.Ref{Num: num, Gen: v.Location(num).Gen})
				for k, x := range d {
					switch k {
					case "Parent", "P", "Kids", "T", "FT":
						continue
					case "V":
						if fs.sig[n] {
							continue // the signature dictionary is judged on its own
						}
					}
					fs.collect(v, x, n, seen, &steps)
				}
			}
		}
	}
	return fs
}

// collect gives name ownership of everything o reaches in v (back links not followed).
func (fs *formScope) collect(v pdf.View, o pdf.Object, name string, seen map[uint32]bool, steps *int) {
	stack := []pdf.Object{o}
	for len(stack) > 0 && *steps < maxScopeSteps {
		*steps++
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch t := x.(type) {
		case pdf.Ref:
			if seen[t.Num] || fs.roots[t.Num] {
				continue
			}
			seen[t.Num] = true
			if !slices.Contains(fs.owners[t.Num], name) {
				fs.owners[t.Num] = append(fs.owners[t.Num], name)
			}
			if y, err := v.Get(t); err == nil && y != nil {
				stack = append(stack, y)
			}
		case pdf.Dict:
			for k, y := range t {
				if k != "Parent" && k != "P" {
					stack = append(stack, y)
				}
			}
		case *pdf.Stream:
			stack = append(stack, t.Dict)
		case pdf.Array:
			stack = append(stack, t...)
		}
	}
}

// appearanceVerdict judges a changed (or new) object used by a form field's appearance or value.
func (c *classifier) appearanceVerdict(rc *revCtx, num uint32, roles role) verdict {
	fs := rc.form
	owners := fs.owners[num]
	if len(owners) == 0 {
		what := "a form field"
		if roles&rSigFieldAP != 0 {
			what = "a signature field"
		}
		return mkVerdict(ChangeOther, permitNever, fmt.Sprintf("object %d: appearance of %s changed without filling or signing that field", num, what))
	}
	if who := c.sharedWith(rc, num); who != "" {
		return mkVerdict(ChangeOther, permitNever, fmt.Sprintf("object %d: appearance of field %q, also used by %s, changed", num, owners[0], who))
	}
	v := mkVerdict(ChangeSignature, permitSignature, fmt.Sprintf("object %d: appearance of signature field %q", num, owners[0]))
	for _, o := range owners {
		if !fs.sig[o] {
			v = mkVerdict(ChangeFormFill, permitFormFill, fmt.Sprintf("object %d: appearance or value of field %q", num, o))
			break
		}
	}
	v.fields = owners
	return v
}

// sharedWith returns what, besides the fields being filled, refers to num or to an owned object on the way to
// it ("" if nothing). A reference the revision itself adds, from an object it changed, is judged with that
// object (a font added to the form's /DR that the new appearance also uses); any reference that was there
// before shows the object in a place the signature covered.
func (c *classifier) sharedWith(rc *revCtx, num uint32) string {
	fs := rc.form
	seen := map[uint32]bool{num: true}
	queue := []uint32{num}
	for len(queue) > 0 {
		if fs.shareSteps++; fs.shareSteps > maxScopeSteps {
			return "more objects than the analysis follows" // hostile fan-out: refused, not guessed at
		}
		x := queue[0]
		queue = queue[1:]
		for i, refs := range [][]uint32{rc.refsB[x], rc.refsA[x]} {
			for _, r := range refs {
				switch {
				case fs.roots[r] || seen[r]:
				case i == 1 && rc.changed[r] && !slices.Contains(rc.refsB[x], r):
				case r != trailerReferrer && r != manyReferrers && len(fs.owners[r]) > 0:
					seen[r] = true
					queue = append(queue, r)
				default:
					return c.describe(rc, r)
				}
			}
		}
	}
	return ""
}

// describe names what object num is, for a detail.
func (c *classifier) describe(rc *revCtx, num uint32) string {
	switch num {
	case trailerReferrer:
		return "the trailer"
	case manyReferrers:
		return fmt.Sprintf("more than %d objects", maxReferrers)
	}
	roles := rc.rb[num] | rc.ra[num]
	name := c.fieldName(num, rc.before, rc.after)
	switch {
	case roles&(rField|rSigField|rWidget|rSigWidget) != 0 && name != "":
		return fmt.Sprintf("form field %q (object %d)", name, num)
	case roles&(rField|rSigField|rWidget|rSigWidget) != 0:
		return fmt.Sprintf("another widget (object %d)", num)
	case roles&rCatalog != 0:
		return fmt.Sprintf("the document catalog (object %d)", num)
	case roles&(rPage|rPagesNode|rContent) != 0:
		return fmt.Sprintf("page content (object %d)", num)
	case roles&(rAnnot|rAnnotAP) != 0:
		return fmt.Sprintf("an annotation (object %d)", num)
	}
	return fmt.Sprintf("object %d", num)
}

// isFormResources reports whether num is the form's /DR dictionary itself (before and after the revision).
func (c *classifier) isFormResources(rc *revCtx, num uint32) bool {
	for _, v := range []pdf.View{rc.before, rc.after} {
		cat, _, err := v.Catalog()
		if err != nil {
			return false
		}
		form, _ := v.Dict(cat["AcroForm"])
		if r, ok := form["DR"].(pdf.Ref); !ok || r.Num != num {
			return false
		}
	}
	return true
}
