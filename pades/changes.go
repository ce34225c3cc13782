package pades

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/trustsign/trustsign/pdf"
)

// The change analysis compares, for each revision after a signature, every object its cross-reference section
// lists with the version before. What an object is for (its roles) comes from walking the document from the
// trailer, before and after the revision; an object may have several roles (an appearance stream also used as
// page content) and then every role must allow the change. Changes to objects nothing refers to are ignored.

// role is what an object is used for.
type role uint32

const (
	rCatalog     role = 1 << iota
	rPagesNode        // an intermediate node of the page tree
	rPage             // a page dictionary
	rContent          // page content, resources, and anything reachable from them
	rAnnotsArray      // an indirect /Annots array
	rAnnot            // a non-widget annotation
	rWidget           // a widget annotation of a non-signature field
	rSigWidget        // a widget annotation of a signature field
	rAnnotAP          // reachable from a non-widget annotation (its appearance)
	rFieldAP          // reachable from a form field or its widget (appearance, /MK)
	rSigFieldAP       // reachable from a signature field or its widget
	rAcroForm         // the interactive form dictionary
	rFieldsArray      // an indirect /Fields or /Kids array
	rField            // a non-signature form field
	rSigField         // a signature field
	rFormRes          // the form's default resources (/DR)
	rFieldValue       // the value of a non-signature field
	rSigDict          // a signature dictionary (and what it contains)
	rDSS              // document security store (validation data)
	rMetadata         // XMP metadata
	rPerms            // the /Perms dictionary
	rInfo             // the document information dictionary
	rNames            // the catalog's name dictionary
	rOther            // reachable from any other part of the catalog
)

// structural roles are not extended by the catch-all roles rOther and rInfo: a page that an outline or the
// structure tree also points to is still judged as a page.
const structural = rCatalog | rPagesNode | rPage | rAnnotsArray | rAnnot | rWidget | rSigWidget | rAcroForm |
	rFieldsArray | rField | rSigField | rSigDict | rDSS | rPerms | rNames

// permit is the DocMDP class a change belongs to.
type permit int

const (
	permitNone       permit = iota // not a change (ignored)
	permitMetadata                 // metadata: allowed unless P=1
	permitDSS                      // validation data
	permitSignature                // a new signature
	permitFormFill                 // filling in form fields
	permitAnnotation               // annotations
	permitNever                    // never allowed
)

func allowed(p permit, docMDP int) bool {
	switch {
	case p == permitNever:
		return false
	case docMDP == 1:
		return false
	case docMDP == 2:
		return p != permitAnnotation
	}
	return true
}

// verdict is the judgement on one changed object.
type verdict struct {
	kind   ChangeKind
	permit permit
	detail string
	field  string // the fully qualified name of the form field concerned, if any
}

func mkVerdict(kind ChangeKind, p permit, detail string) verdict {
	return verdict{kind: kind, permit: p, detail: detail}
}

type classifier struct {
	r     *pdf.Reader
	roles map[int]map[uint32]role
	names map[int]map[uint32]string // fully qualified field names per revision
	revs  map[int][]verdict
}

func newClassifier(r *pdf.Reader) *classifier {
	return &classifier{r: r, roles: map[int]map[uint32]role{}, names: map[int]map[uint32]string{}, revs: map[int][]verdict{}}
}

// changesAfter lists the changes of every revision after rev, judged under DocMDP permissions p (0: none).
func (c *classifier) changesAfter(ctx context.Context, rev, p int, lock *FieldLock) ([]Change, error) {
	var out []Change
	for k := rev + 1; k <= len(c.r.Revisions()); k++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		vs, err := c.revision(k)
		if err != nil {
			return out, err
		}
		// One Change per kind and permission class: the details joined.
		type key struct {
			kind    ChangeKind
			allowed bool
		}
		var order []key
		details := map[key][]string{}
		for _, v := range vs {
			ok := allowed(v.permit, p)
			if ok && v.permit == permitFormFill && lock.Locks(v.field) {
				ok = false
				v.detail += fmt.Sprintf(" (field %q is locked by the signature)", v.field)
			}
			k := key{v.kind, ok}
			if _, ok := details[k]; !ok {
				order = append(order, k)
			}
			details[k] = append(details[k], v.detail)
		}
		for _, kk := range order {
			out = append(out, Change{Revision: k, Kind: kk.kind, Allowed: kk.allowed, Detail: joinDetails(details[kk])})
		}
	}
	return out, nil
}

func joinDetails(d []string) string {
	// Descriptions first, per-object notes after.
	sort.Slice(d, func(i, j int) bool {
		oi, oj := strings.HasPrefix(d[i], "object "), strings.HasPrefix(d[j], "object ")
		if oi != oj {
			return oj
		}
		return d[i] < d[j]
	})
	uniq := d[:0]
	for i, s := range d {
		if i == 0 || s != d[i-1] {
			uniq = append(uniq, s)
		}
	}
	if len(uniq) > 4 {
		return strings.Join(uniq[:4], "; ") + fmt.Sprintf("; and %d more", len(uniq)-4)
	}
	return strings.Join(uniq, "; ")
}

// revision judges every object revision k changed relative to revision k-1.
func (c *classifier) revision(k int) ([]verdict, error) {
	if vs, ok := c.revs[k]; ok {
		return vs, nil
	}
	before, after := c.r.At(k-1), c.r.At(k)
	rb, err := c.rolesOf(k - 1)
	if err != nil {
		return nil, err
	}
	ra, err := c.rolesOf(k)
	if err != nil {
		return nil, err
	}
	var out []verdict
	// A revision may write the catalog under a new number: compare it with the old one.
	cb, rootB, errB := before.Catalog()
	ca, rootA, errA := after.Catalog()
	if rootA != rootB || errA != nil {
		if errB != nil || errA != nil {
			out = append(out, mkVerdict(ChangeOther, permitNever, "document catalog replaced by an unreadable one"))
		} else {
			out = append(out, c.catalogDiff(cb, ca, before, after)...)
		}
	}
	for _, num := range c.r.Revisions()[k-1].ObjectNumbers() {
		lb, la := before.Location(num), after.Location(num)
		if lb == la {
			continue
		}
		raNum := ra[num]
		if rootA != rootB && num == rootA.Num {
			raNum &^= rCatalog // judged above
		}
		roles := rb[num] | raNum
		if roles == 0 {
			continue // not part of the document
		}
		var ob, oa pdf.Object
		if lb.Kind != 0 {
			if ob, err = before.Get(pdf.Ref{Num: num, Gen: lb.Gen}); err != nil {
				return nil, err
			}
		}
		if la.Kind != 0 {
			if oa, err = after.Get(pdf.Ref{Num: num, Gen: la.Gen}); err != nil {
				return nil, err
			}
		}
		same, err := c.same(ob, oa)
		if err != nil {
			return nil, err
		}
		if same {
			continue
		}
		out = append(out, c.judge(num, ob, oa, rb[num], raNum, before, after)...)
	}
	c.revs[k] = out
	return out, nil
}

// same compares two versions of an object, stream data included.
func (c *classifier) same(a, b pdf.Object) (bool, error) {
	if !pdf.Equal(a, b) {
		return false, nil
	}
	sa, ok1 := a.(*pdf.Stream)
	sb, ok2 := b.(*pdf.Stream)
	if ok1 && ok2 {
		return c.r.StreamsEqual(sa, sb)
	}
	return true, nil
}

// judge returns the verdicts on one changed object (one per role concerned).
func (c *classifier) judge(num uint32, ob, oa pdf.Object, rb, ra role, before, after pdf.View) []verdict {
	roles := rb | ra
	db, _ := dictOf(ob)
	da, _ := dictOf(oa)
	obj := fmt.Sprintf("object %d", num)
	var out []verdict
	add := func(kind ChangeKind, p permit, detail string) { out = append(out, mkVerdict(kind, p, detail)) }
	never := func(kind ChangeKind, detail string) { add(kind, permitNever, detail) }
	if ob == nil && oa != nil && rb == 0 {
		// A new object: judged by what it is used for now.
		switch {
		case ra&(rPage|rPagesNode) != 0:
			never(ChangePageAdded, "new page or page tree node")
		case ra&rContent != 0:
			never(ChangePageContent, "new object used by page content")
		case ra&rNames != 0:
			out = append(out, c.namesDiff(nil, da)...)
		case ra&(rOther|rPerms) != 0:
			never(ChangeOther, "new object used by the catalog")
		case ra&rSigDict != 0:
			add(ChangeSignature, permitSignature, "new signature dictionary")
		case ra&(rSigField|rSigWidget|rSigFieldAP) != 0:
			add(ChangeSignature, permitSignature, "new signature field or appearance")
		case ra&(rAcroForm|rFieldsArray|rFormRes) != 0:
			add(ChangeFormFill, permitFormFill, "new form structure")
		case ra&(rField|rWidget|rFieldAP|rFieldValue) != 0:
			add(ChangeFormFill, permitFormFill, "new form field data")
		case ra&(rAnnot|rAnnotAP|rAnnotsArray) != 0:
			add(ChangeAnnotation, permitAnnotation, "new annotation")
		case ra&rDSS != 0:
			add(ChangeDSS, permitDSS, "new validation data")
		case ra&rMetadata != 0:
			add(ChangeOther, permitMetadata, "new XMP metadata")
		case ra&rCatalog != 0:
			never(ChangeOther, "new catalog")
		}
		return out
	}
	if oa == nil {
		// Deleted (freed) while it was part of the document.
		never(kindOfRoles(rb), fmt.Sprintf("%s deleted", obj))
		return out
	}
	if roles&rCatalog != 0 {
		out = append(out, c.catalogDiff(db, da, before, after)...)
	}
	if roles&rPagesNode != 0 {
		keys := pdf.DiffKeys(db, da)
		if containsKey(keys, "Kids") || containsKey(keys, "Count") {
			nb, _ := db.Int("Count")
			na, _ := da.Int("Count")
			if na > nb {
				never(ChangePageAdded, fmt.Sprintf("page tree: %d pages instead of %d", na, nb))
			} else {
				never(ChangePageContent, "page tree changed (pages removed or reordered)")
			}
		} else if len(keys) > 0 {
			never(ChangePageContent, "page tree node changed: "+keyList(keys))
		}
	}
	if roles&rPage != 0 {
		var rest []pdf.Name
		for _, k := range pdf.DiffKeys(db, da) {
			if k == "Annots" {
				out = append(out, c.annotsDiff(db["Annots"], da["Annots"], before, after)...)
			} else {
				rest = append(rest, k)
			}
		}
		if len(rest) > 0 {
			never(ChangePageContent, fmt.Sprintf("page %s: %s changed", obj, keyList(rest)))
		}
	}
	if roles&rAnnotsArray != 0 {
		out = append(out, c.annotsDiff(ob, oa, before, after)...)
	}
	if roles&rContent != 0 {
		never(ChangePageContent, obj+": used by page content, changed")
	}
	if roles&(rOther|rPerms) != 0 {
		never(ChangeOther, obj+": part of the document catalog, changed")
	}
	if roles&rNames != 0 {
		out = append(out, c.namesDiff(db, da)...)
	}
	if roles&rSigDict != 0 {
		if ob != nil {
			never(ChangeSignatureDict, obj+": signature data changed")
		}
	}
	if roles&(rField|rSigField) != 0 {
		fv := c.fieldDiff(obj, db, da, roles&rSigField != 0, before, after)
		for i := range fv {
			fv[i].field = c.fieldName(num, before, after)
		}
		out = append(out, fv...)
	} else if roles&(rWidget|rSigWidget) != 0 {
		wv := widgetDiff(obj, db, da, roles&rSigWidget != 0)
		if name := c.widgetField(da, after); name != "" {
			for i := range wv {
				wv[i].field = name
			}
		}
		out = append(out, wv...)
	}
	if roles&rAnnot != 0 {
		add(ChangeAnnotation, permitAnnotation, obj+": annotation changed")
	}
	if roles&rAcroForm != 0 {
		out = append(out, c.acroFormDiff(db, da, before, after)...)
	}
	if roles&rFieldsArray != 0 {
		out = append(out, c.fieldsDiff(ob, oa, before, after)...)
	}
	if roles&(rFieldAP|rFormRes|rFieldValue) != 0 {
		add(ChangeFormFill, permitFormFill, obj+": form field appearance or value changed")
	}
	if roles&rSigFieldAP != 0 {
		add(ChangeSignature, permitSignature, obj+": signature appearance changed")
	}
	if roles&rAnnotAP != 0 {
		add(ChangeAnnotation, permitAnnotation, obj+": annotation appearance changed")
	}
	if roles&rDSS != 0 {
		add(ChangeDSS, permitDSS, obj+": validation data (DSS) updated")
	}
	if roles&rMetadata != 0 {
		add(ChangeOther, permitMetadata, obj+": XMP metadata updated")
	}
	return out
}

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

func kindOfRoles(r role) ChangeKind {
	switch {
	case r&(rPage|rPagesNode|rContent) != 0:
		return ChangePageContent
	case r&rSigDict != 0:
		return ChangeSignatureDict
	}
	return ChangeOther
}

func dictOf(o pdf.Object) (pdf.Dict, bool) {
	switch d := o.(type) {
	case pdf.Dict:
		return d, true
	case *pdf.Stream:
		return d.Dict, true
	}
	return nil, false
}

// bothIndirect reports whether entry k is a reference in both versions of a dictionary: then the referenced
// objects are judged on their own, not as part of this dictionary.
func bothIndirect(db, da pdf.Dict, k pdf.Name) bool {
	_, rb := db[k].(pdf.Ref)
	_, ra := da[k].(pdf.Ref)
	return rb && ra
}

func containsKey(keys []pdf.Name, k pdf.Name) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

func (c *classifier) catalogDiff(db, da pdf.Dict, before, after pdf.View) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		switch k {
		case "AcroForm":
			// An indirect AcroForm is judged as its own object; an inline or newly added one here.
			if bothIndirect(db, da, k) {
				continue // the reference changed: the new object is judged by its role
			}
			fb, _ := before.Dict(db[k])
			fa, _ := after.Dict(da[k])
			out = append(out, c.acroFormDiff(fb, fa, before, after)...)
		case "DSS", "Extensions":
			out = append(out, mkVerdict(ChangeDSS, permitDSS, "catalog /"+string(k)+" updated"))
		case "Names":
			if bothIndirect(db, da, k) {
				continue
			}
			nb, _ := before.Dict(db[k])
			na, _ := after.Dict(da[k])
			out = append(out, c.namesDiff(nb, na)...)
		case "Metadata", "Version":
			out = append(out, mkVerdict(ChangeOther, permitMetadata, "catalog /"+string(k)+" updated"))
		default:
			out = append(out, mkVerdict(ChangeOther, permitNever, "catalog /"+string(k)+" changed"))
		}
	}
	return out
}

// namesDiff judges a changed name dictionary: named annotation appearances (/AP, which Acrobat adds with
// comments) are annotations; any other name tree (JavaScript, embedded files, destinations, templates) is not
// allowed to change.
func (c *classifier) namesDiff(db, da pdf.Dict) []verdict {
	var out []verdict
	for _, k := range pdf.DiffKeys(db, da) {
		if k == "AP" {
			out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, "named annotation appearances (/Names /AP) updated"))
			continue
		}
		out = append(out, mkVerdict(ChangeOther, permitNever, "catalog /Names /"+string(k)+" changed"))
	}
	return out
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

// refsOf returns the references in an array (resolved if the array is indirect).
func refsOf(v pdf.View, o pdf.Object) []pdf.Ref {
	o, err := v.Resolve(o)
	if err != nil {
		return nil
	}
	a, _ := o.(pdf.Array)
	var out []pdf.Ref
	for _, e := range a {
		if r, ok := e.(pdf.Ref); ok {
			out = append(out, r)
		}
	}
	return out
}

// refDiff compares two arrays of references: the ones only in oa (added, in oa's order) and the ones only in ob
// (removed, in ob's order).
func refDiff(ob, oa pdf.Object, before, after pdf.View) (added, removed []pdf.Ref) {
	was, is := refsOf(before, ob), refsOf(after, oa)
	old := make(map[pdf.Ref]bool, len(was))
	for _, r := range was {
		old[r] = true
	}
	now := make(map[pdf.Ref]bool, len(is))
	for _, r := range is {
		now[r] = true
		if !old[r] {
			added = append(added, r)
		}
	}
	for _, r := range was {
		if !now[r] {
			removed = append(removed, r)
		}
	}
	return added, removed
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

// annotsDiff judges a changed /Annots list: widgets of new signature fields are part of signing, other new
// annotations are annotations; removing a widget is never allowed.
func (c *classifier) annotsDiff(ob, oa pdf.Object, before, after pdf.View) []verdict {
	added, removed := refDiff(ob, oa, before, after)
	var out []verdict
	for _, r := range added {
		d, _ := after.Dict(r)
		if st, _ := d.Name("Subtype"); st == "Widget" {
			if fieldType(after, d) == "Sig" {
				out = append(out, mkVerdict(ChangeSignature, permitSignature, "signature widget added to a page"))
			} else {
				out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, "form widget added to a page"))
			}
			continue
		}
		st, _ := d.Name("Subtype")
		out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, fmt.Sprintf("/%s annotation added", st)))
	}
	for _, r := range removed {
		d, _ := before.Dict(r)
		if st, _ := d.Name("Subtype"); st == "Widget" {
			out = append(out, mkVerdict(ChangeOther, permitNever, "form widget removed from a page"))
		} else {
			out = append(out, mkVerdict(ChangeAnnotation, permitAnnotation, fmt.Sprintf("/%s annotation removed", st)))
		}
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

// rolesOf walks the document as of revision rev and records every object's roles.
func (c *classifier) rolesOf(rev int) (map[uint32]role, error) {
	if m, ok := c.roles[rev]; ok {
		return m, nil
	}
	w := &walker{v: c.r.At(rev), roles: map[uint32]role{}, names: map[uint32]string{}}
	t := w.v.Trailer()
	w.mark(t["Info"], rInfo)
	if _, root, err := w.v.Catalog(); err == nil {
		w.mark(root, rCatalog)
	}
	// Phase 1 walks the document structure; phase 2 the catch-all roles, which do not override structure.
	for phase := 1; phase <= 2; phase++ {
		if phase == 2 {
			w.late = true
			for _, d := range w.deferred {
				w.markDepth(d.o, d.r, 0)
			}
			w.deferred = nil
		}
		for len(w.queue) > 0 {
			it := w.queue[len(w.queue)-1]
			w.queue = w.queue[:len(w.queue)-1]
			w.cur = it.ref.Num
			o, err := w.v.Get(it.ref)
			if err != nil {
				// An unreadable object in an old revision must not hide the rest: it simply has no children.
				continue
			}
			if err := w.process(o, it.role, 0); err != nil {
				return nil, err
			}
		}
	}
	c.roles[rev] = w.roles
	c.names[rev] = w.names
	return w.roles, nil
}

type walkItem struct {
	ref  pdf.Ref
	role role
}

type walker struct {
	v        pdf.View
	roles    map[uint32]role
	queue    []walkItem
	deferred []deferredMark
	late     bool // phase 2: catch-all roles are applied
	steps    int
	names    map[uint32]string // fully qualified names of form fields
	cur      uint32            // the object being processed
}

type deferredMark struct {
	o pdf.Object
	r role
}

const maxWalkSteps = 2_000_000

// mark gives o (if a reference) role r; a direct object is processed in place.
func (w *walker) mark(o pdf.Object, r role) {
	w.markDepth(o, r, 0)
}

func (w *walker) markDepth(o pdf.Object, r role, depth int) {
	if r&(rOther|rInfo) != 0 {
		if !w.late {
			w.deferred = append(w.deferred, deferredMark{o, r})
			return
		}
		if ref, ok := o.(pdf.Ref); ok && w.roles[ref.Num]&structural != 0 {
			return
		}
	}
	if ref, ok := o.(pdf.Ref); ok {
		if w.roles[ref.Num]&r == r {
			return
		}
		w.roles[ref.Num] |= r
		w.queue = append(w.queue, walkItem{ref, r})
		return
	}
	w.process(o, r, depth)
}

// process walks the children of a resolved object that has role r.
func (w *walker) process(o pdf.Object, r role, depth int) error {
	w.steps++
	if w.steps > maxWalkSteps {
		return fmt.Errorf("%w: document graph too large", pdf.ErrLimit)
	}
	if depth > 64 {
		return nil
	}
	d, isDict := dictOf(o)
	if !isDict {
		if a, ok := o.(pdf.Array); ok {
			elem := r
			switch r {
			case rAnnotsArray:
				for _, e := range a {
					w.markAnnot(e)
				}
				return nil
			case rFieldsArray:
				for _, e := range a {
					w.markField(e, "", "")
				}
				return nil
			case rPagesNode:
				for _, e := range a {
					w.markKid(e)
				}
				return nil
			}
			for _, e := range a {
				w.markDepth(e, elem, depth+1)
			}
		}
		return nil
	}
	switch r {
	case rCatalog:
		for k, val := range d {
			switch k {
			case "Type", "Version":
			case "Pages":
				w.mark(val, rPagesNode)
			case "AcroForm":
				w.markAcroForm(val)
			case "DSS":
				w.mark(val, rDSS)
			case "Metadata":
				w.mark(val, rMetadata)
			case "Perms":
				w.mark(val, rPerms)
			case "Names":
				w.mark(val, rNames)
			default:
				w.mark(val, rOther)
			}
		}
	case rPagesNode:
		for k, val := range d {
			switch k {
			case "Type", "Parent", "Count":
			case "Kids":
				if ref, ok := val.(pdf.Ref); ok {
					w.roles[ref.Num] |= rPagesNode
				}
				kids, _ := w.v.Resolve(val)
				if a, ok := kids.(pdf.Array); ok {
					for _, e := range a {
						w.markKid(e)
					}
				}
			default:
				w.mark(val, rContent)
			}
		}
	case rPage:
		for k, val := range d {
			switch k {
			case "Type", "Parent", "B", "StructParents":
			case "Annots":
				if ref, ok := val.(pdf.Ref); ok {
					w.mark(ref, rAnnotsArray)
				} else if a, ok := val.(pdf.Array); ok {
					for _, e := range a {
						w.markAnnot(e)
					}
				}
			case "Metadata":
				w.mark(val, rMetadata)
			default:
				w.mark(val, rContent)
			}
		}
	case rAnnot:
		for k, val := range d {
			switch k {
			case "P", "Parent", "IRT":
			case "Popup":
				w.markAnnot(val)
			default:
				w.mark(val, rAnnotAP)
			}
		}
	case rWidget, rSigWidget:
		ap := rFieldAP
		if r == rSigWidget {
			ap = rSigFieldAP
		}
		for k, val := range d {
			switch k {
			case "P", "Parent":
			case "V":
				if r == rSigWidget {
					w.mark(val, rSigDict)
				} else {
					w.mark(val, rFieldValue)
				}
			default:
				w.mark(val, ap)
			}
		}
	case rField, rSigField:
		ap, val := rFieldAP, rFieldValue
		if r == rSigField {
			ap, val = rSigFieldAP, rSigDict
		}
		ft := fieldType(w.v, d)
		for k, x := range d {
			switch k {
			case "P", "Parent", "FT", "T":
			case "Kids":
				if ref, ok := x.(pdf.Ref); ok {
					w.roles[ref.Num] |= rFieldsArray
				}
				kids, _ := w.v.Resolve(x)
				if a, ok := kids.(pdf.Array); ok {
					for _, e := range a {
						w.markField(e, ft, w.names[w.cur])
					}
				}
			case "V", "DV", "Lock", "SV":
				w.mark(x, val)
			default:
				w.mark(x, ap)
			}
		}
	case rNames:
		for k, x := range d {
			if k == "AP" {
				w.mark(x, rAnnotAP)
			} else {
				w.mark(x, rOther)
			}
		}
	case rAcroForm:
		for k, x := range d {
			switch k {
			case "Fields":
				if ref, ok := x.(pdf.Ref); ok {
					w.roles[ref.Num] |= rFieldsArray
				}
				fields, _ := w.v.Resolve(x)
				if a, ok := fields.(pdf.Array); ok {
					for _, e := range a {
						w.markField(e, "", "")
					}
				}
			case "DR":
				w.mark(x, rFormRes)
			case "DA", "SigFlags", "NeedAppearances":
			default:
				w.mark(x, rOther)
			}
		}
	default:
		// Everything reachable keeps the role; back links are not followed.
		for k, x := range d {
			if k == "Parent" || k == "P" || (r == rSigDict && k == "Data") {
				continue
			}
			w.markDepth(x, r, depth+1)
		}
	}
	return nil
}

func (w *walker) markAcroForm(o pdf.Object) {
	w.mark(o, rAcroForm)
}

// markKid marks a page tree kid as a page or an intermediate node.
func (w *walker) markKid(o pdf.Object) {
	d, _ := w.v.Dict(o)
	if d == nil {
		w.mark(o, rPage) // unreadable: judged (and refused) as a page
		return
	}
	if t, _ := d.Name("Type"); t == "Page" || (t == "" && d["Kids"] == nil) {
		w.mark(o, rPage)
		return
	}
	w.mark(o, rPagesNode)
}

// markAnnot marks an annotation by kind.
func (w *walker) markAnnot(o pdf.Object) {
	d, _ := w.v.Dict(o)
	if d == nil {
		w.mark(o, rAnnot|rOther) // unreadable or not a dictionary: any change to it is refused
		return
	}
	if st, _ := d.Name("Subtype"); st == "Widget" {
		if fieldType(w.v, d) == "Sig" {
			w.mark(o, rSigWidget)
		} else {
			w.mark(o, rWidget)
		}
		return
	}
	w.mark(o, rAnnot)
}

// markField marks a form field (and, when it is merged with its widget, the widget).
func (w *walker) markField(o pdf.Object, inherited pdf.Name, parent string) {
	d, _ := w.v.Dict(o)
	if ref, ok := o.(pdf.Ref); ok && d != nil {
		name := parent
		if t := pdf.Text(d["T"]); t != "" {
			if name != "" {
				name += "."
			}
			name += t
		}
		if _, seen := w.names[ref.Num]; !seen {
			w.names[ref.Num] = name
		}
	}
	if d == nil {
		w.mark(o, rField|rOther) // unreadable or not a dictionary: any change to it is refused
		return
	}
	ft := inherited
	if n, ok := d.Name("FT"); ok {
		ft = n
	}
	if ft == "Sig" {
		w.mark(o, rSigField)
	} else {
		w.mark(o, rField)
	}
	if st, _ := d.Name("Subtype"); st == "Widget" {
		if ft == "Sig" {
			w.mark(o, rSigWidget)
		} else {
			w.mark(o, rWidget)
		}
	}
}
