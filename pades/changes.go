package pades

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/trustsign/trustsign/pdf"
)

// The change analysis compares, for each revision after a signature, every object its cross-reference section
// lists with the version before (changes_walk.go finds what each object is for and who refers to it, before and
// after the revision). It is a whitelist, split the way pyHanko's diff analysis is:
//
//   - file structure (this file): objects nothing refers to are ignored; an object the document uses may
//     change, or a new one appear, only if a rule below explains it, and every use of it (its roles) must
//     allow the change. One object gets one verdict: when any rule refuses the change, that refusal stands.
//   - structure (changes_structure.go): which catalog entries may change, pages (only /Annots), the page tree
//     (only producer-private keys such as iText's /ITXT), and the name dictionary.
//   - form fields (changes_form.go): the AcroForm, fields and widgets (filling keys only; a signature field
//     only while it is being signed), and the objects a field's appearance or value reaches, which may change
//     only when the revision fills that field and nothing else (another widget, the page, the catalog, the
//     trailer) uses them. Every verdict that adds or alters a field, its value, widgets or appearance names
//     the fields concerned by their fully qualified names (an added field also by the existing fields it
//     equals, falls under or holds), so that a FieldMDP lock on any of them refuses it.
//   - validation data and metadata (changes_dss.go): the /DSS and its VRI, certificate, OCSP and CRL streams,
//     and the XMP metadata stream.
//
// The verdicts are then weighed by DocMDP (P=1/2/3) and FieldMDP locks in changesAfter.

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
// structure tree also points to is still judged as a page. The indirect /Annots, /Fields and /Kids arrays are
// not: nothing else has a reason to name them, so an array a later revision may extend is refused when some
// other path (a private catalog entry, say) also leads to it.
const structural = rCatalog | rPagesNode | rPage | rAnnot | rWidget | rSigWidget | rAcroForm |
	rField | rSigField | rSigDict | rDSS | rPerms | rNames

// permit is the DocMDP class a change belongs to.
type permit int

const (
	permitNone       permit = iota // not a change (ignored)
	permitMetadata                 // metadata: allowed unless P=1
	permitDSS                      // validation data: allowed even under P=1 (PAdES LTV)
	permitProducer                 // producer-private data with no effect on rendering: always allowed
	permitSignature                // a new signature
	permitFormFill                 // filling in form fields
	permitAnnotation               // annotations
	permitNever                    // never allowed
)

func allowed(p permit, docMDP int) bool {
	switch {
	case p == permitNever:
		return false
	case p == permitDSS || p == permitProducer:
		return true
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
	fields []string // the fully qualified names of the form fields concerned, if any
	// adds: the change adds a field or widget under fields; a FieldMDP lock on any of them refuses it whatever
	// its class (a second field named like a locked one is the locked field to a viewer).
	adds bool
}

func mkVerdict(kind ChangeKind, p permit, detail string) verdict {
	return verdict{kind: kind, permit: p, detail: detail}
}

type classifier struct {
	r     *pdf.Reader
	roles map[int]map[uint32]role
	names map[int]map[uint32]string   // fully qualified field names per revision
	refs  map[int]map[uint32][]uint32 // referrers per revision
	revs  map[int][]verdict
}

func newClassifier(r *pdf.Reader) *classifier {
	return &classifier{r: r, roles: map[int]map[uint32]role{}, names: map[int]map[uint32]string{}, refs: map[int]map[uint32][]uint32{}, revs: map[int][]verdict{}}
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
			if v.permit == permitNone {
				continue
			}
			ok := allowed(v.permit, p)
			// A lock refuses every change to a locked field: filling it, its widgets' annotation keys, and adding
			// a field or widget whose name is (or falls under, or holds) a locked name.
			if ok && (v.permit == permitFormFill || v.permit == permitAnnotation || v.adds) {
				for _, f := range v.fields {
					if lock.Locks(f) {
						ok = false
						v.detail += fmt.Sprintf(" (field %q is locked by the signature)", f)
						break
					}
				}
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

// revCtx is what the rules of one revision share: both views, the roles and referrers of every object before
// and after, the objects the revision changed, and the form fields it fills (with their appearance scopes).
type revCtx struct {
	k             int
	before, after pdf.View
	rb, ra        map[uint32]role
	refsB, refsA  map[uint32][]uint32
	changed       map[uint32]bool
	form          *formScope
	dss           *dssCheck
	oldNames      *fieldNames // the field names before the revision (built when a field is added)
	addSteps      int         // work done naming added fields in this revision (bounded by maxScopeSteps)
}

type changedObject struct {
	num    uint32
	ob, oa pdf.Object
	raNum  role
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
	rc := &revCtx{k: k, before: before, after: after, rb: rb, ra: ra, refsB: c.refs[k-1], refsA: c.refs[k],
		changed: map[uint32]bool{}}
	var out []verdict
	// A revision may write the catalog under a new number: compare it with the old one.
	cb, rootB, errB := before.Catalog()
	ca, rootA, errA := after.Catalog()
	if rootA != rootB || errA != nil {
		if errB != nil || errA != nil {
			out = append(out, mkVerdict(ChangeOther, permitNever, "document catalog replaced by an unreadable one"))
		} else {
			out = append(out, c.catalogDiff(rc, cb, ca)...)
		}
	}
	// File structure: the objects the section lists that differ from the revision before and are part of the
	// document (before or after); objects nothing refers to are ignored.
	var changed []changedObject
	for _, num := range c.r.Revisions()[k-1].ObjectNumbers() {
		lb, la := before.Location(num), after.Location(num)
		if lb == la {
			continue
		}
		raNum := ra[num]
		if rootA != rootB && num == rootA.Num {
			raNum &^= rCatalog // judged above
		}
		if rb[num]|raNum == 0 {
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
		rc.changed[num] = true
		changed = append(changed, changedObject{num, ob, oa, raNum})
	}
	rc.form = c.formScopes(rc)
	docTS, otherSig := 0, false
	for _, ch := range changed {
		out = append(out, oneVerdict(c.judge(rc, ch.num, ch.ob, ch.oa, rb[ch.num], ch.raNum))...)
		if ch.ob == nil && ch.raNum&rSigDict != 0 {
			if isDocTimeStamp(ch.oa) {
				docTS++
			} else {
				otherSig = true
			}
		}
	}
	if docTS > 0 && !otherSig {
		out = docTimeStampRevision(out)
	}
	c.revs[k] = out
	return out, nil
}

// oneVerdict keeps one object to one verdict: when any rule refuses the change, the verdicts of the rules that
// would allow it are dropped (the object changed in a way not every use of it allows).
func oneVerdict(vs []verdict) []verdict {
	refused := vs[:0:0]
	for _, v := range vs {
		if v.permit == permitNever {
			refused = append(refused, v)
		}
	}
	if len(refused) > 0 {
		return refused[:1]
	}
	return vs
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

// judge returns the verdicts on one changed object: every role it has (before or after) must allow the change.
func (c *classifier) judge(rc *revCtx, num uint32, ob, oa pdf.Object, rb, ra role) []verdict {
	after := rc.after
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
		case ra&(rOther|rPerms) != 0:
			never(ChangeOther, "new object used by the catalog or the trailer outside the structure a later revision may change")
		case ra&rSigDict != 0:
			add(ChangeSignature, permitSignature, "new signature dictionary")
		case ra&^(rAnnotsArray|rFieldsArray|rAcroForm|rNames) == 0:
			// A list or dictionary moved to a new object: the rule of what names it (the page's /Annots, the
			// form's /Fields or a field's /Kids, the catalog's /AcroForm or /Names) judged its content.
			out = append(out, explained(fmt.Sprintf("object %d: new home of a list or dictionary judged with its parent", num)))
		case ra&(rField|rSigField|rWidget|rSigWidget) == 0 && ra&(rFieldAP|rSigFieldAP|rFieldValue) != 0:
			out = append(out, c.appearanceVerdict(rc, num, roles))
		case ra&(rSigField|rSigWidget) != 0:
			out = append(out, c.addedField(rc, pdf.Ref{Num: num, Gen: after.Location(num).Gen}, true,
				mkVerdict(ChangeSignature, permitSignature, "new signature field")))
		case ra&(rAcroForm|rFieldsArray|rFormRes) != 0:
			add(ChangeFormFill, permitFormFill, "new form structure")
		case ra&(rField|rWidget) != 0:
			out = append(out, c.addedField(rc, pdf.Ref{Num: num, Gen: after.Location(num).Gen}, false,
				mkVerdict(ChangeFormFill, permitFormFill, "new form field data")))
		case ra&(rAnnot|rAnnotAP|rAnnotsArray) != 0:
			add(ChangeAnnotation, permitAnnotation, "new annotation")
		case ra&rDSS != 0:
			out = append(out, c.dssObject(rc, num, ob, oa))
		case ra&rMetadata != 0:
			out = append(out, c.metadataObject(after, num, oa))
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
		out = append(out, c.catalogDiff(rc, db, da)...)
	}
	if roles&rPagesNode != 0 {
		out = append(out, pageTreeDiff(obj, db, da)...)
	}
	if roles&rPage != 0 {
		out = append(out, c.pageDiff(rc, obj, db, da)...)
	}
	if roles&rAnnotsArray != 0 {
		out = append(out, c.annotsDiff(rc, ob, oa)...)
	}
	if roles&rContent != 0 {
		never(ChangePageContent, obj+": used by page content, changed")
	}
	if roles&(rOther|rPerms) != 0 {
		never(ChangeOther, obj+": used by the catalog or the trailer outside the structure a later revision may change, changed")
	}
	if roles&rNames != 0 {
		out = append(out, c.namesDiff(db, da)...)
	}
	if roles&rSigDict != 0 {
		never(ChangeSignatureDict, obj+": signature data changed")
	}
	switch {
	case roles&(rField|rSigField) != 0:
		out = append(out, c.fieldDiff(rc, num, db, da, roles&rSigField != 0)...)
	case roles&(rWidget|rSigWidget) != 0:
		out = append(out, c.widgetDiff(rc, num, db, da, roles&rSigWidget != 0)...)
	}
	if roles&rAnnot != 0 {
		add(ChangeAnnotation, permitAnnotation, obj+": annotation changed")
	}
	if roles&rAcroForm != 0 {
		out = append(out, c.acroFormDiff(rc, db, da)...)
	}
	if roles&rFieldsArray != 0 {
		out = append(out, c.fieldsDiff(rc, ob, oa)...)
	}
	if roles&rFormRes != 0 {
		v := mkVerdict(ChangeFormFill, permitFormFill, obj+": form default resources changed")
		if !c.isFormResources(rc, num) || !c.resourcesOnlyAdded(rc, ob, oa) {
			v.fields = c.redrawnFields(rc) // a font or resource of /DR changed in place
		}
		out = append(out, v)
	}
	if roles&(rField|rSigField|rWidget|rSigWidget) == 0 && roles&(rFieldAP|rSigFieldAP|rFieldValue) != 0 {
		out = append(out, c.appearanceVerdict(rc, num, roles))
	}
	if roles&rAnnotAP != 0 {
		add(ChangeAnnotation, permitAnnotation, obj+": annotation appearance changed")
	}
	if roles&rDSS != 0 {
		out = append(out, c.dssObject(rc, num, ob, oa))
	}
	if roles&rMetadata != 0 {
		out = append(out, c.metadataObject(after, num, oa))
	}
	if len(out) == 0 && roles&^rInfo != 0 {
		// A whitelist: a change no rule explains is refused.
		never(kindOfRoles(roles), obj+": changed, and no rule allows that change")
	}
	return out
}

// explained is the verdict of a change a rule checked and found to change nothing of substance; it is not
// reported.
func explained(detail string) verdict { return mkVerdict("", permitNone, detail) }

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

func containsKey(keys []pdf.Name, k pdf.Name) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// Change kinds added by the rule split (the others are declared with Change); the verify package reports them
// as they are.
const (
	// ChangeMetadata: the document's XMP metadata was updated (allowed unless DocMDP P=1); the stream must still
	// be XMP.
	ChangeMetadata ChangeKind = "metadata"
	// ChangeProducerData: a producer's private entry with no effect on rendering (iText's /ITXT in the page tree)
	// was written; always allowed.
	ChangeProducerData ChangeKind = "producer-data"
	// ChangeDocumentTimeStamp: a document time-stamp was added (its signature field, widget and dictionary, the
	// form's /Fields and /SigFlags); allowed like validation data, even under DocMDP P=1 (PAdES B-LTA).
	ChangeDocumentTimeStamp ChangeKind = "document-timestamp"
)

// isDocTimeStamp reports whether o is a document time-stamp dictionary (/Type /DocTimeStamp or /SubFilter
// /ETSI.RFC3161).
func isDocTimeStamp(o pdf.Object) bool {
	d, ok := dictOf(o)
	if !ok {
		return false
	}
	t, _ := d.Name("Type")
	sf, _ := d.Name("SubFilter")
	return t == "DocTimeStamp" || sf == "ETSI.RFC3161"
}

// docTimeStampRevision re-judges the verdicts of a revision that adds document time-stamps and no other
// signature: adding the time-stamp (what the signature rules allowed) is a document-timestamp change, allowed
// like validation data; validation data and metadata stay as judged; anything else riding along is refused.
func docTimeStampRevision(vs []verdict) []verdict {
	out := make([]verdict, 0, len(vs))
	for _, v := range vs {
		switch {
		case v.permit == permitNone, v.permit == permitNever, v.permit == permitDSS, v.permit == permitProducer,
			v.permit == permitMetadata:
		case v.kind == ChangeSignature && v.permit == permitSignature:
			v.kind, v.permit = ChangeDocumentTimeStamp, permitDSS
		default:
			v.permit = permitNever
			v.detail += " (not allowed in a revision adding a document time-stamp)"
		}
		out = append(out, v)
	}
	return out
}
