package verify

import (
	"strconv"
	"strings"
)

// libraryCodes are the catalog entries whose English is a text a format library (xades, pades, keyusage) writes:
// fromLibrary recognises such a text by its English template and gives it its code, so that pages translate it
// too. Earlier entries win; a {detail} is recognised again, recursively.
var libraryCodes = []string{
	// what an XML reference covers
	"lib.excludingSignatures", "lib.filteredXPath2", "lib.wholeDocumentComments", "lib.wholeDocument", "lib.element", "lib.objectHolding",
	"lib.object", "lib.signedProperties", "lib.counterSignedValue", "lib.detachedFile",
	// why a reference failed
	"lib.digestMismatch", "lib.digestValueInvalid", "lib.noURI", "lib.noElementWithID", "lib.externalNeverFetched",
	"lib.detachedNotProvided", "lib.notXML", "lib.base64Invalid", "lib.processingLimit", "lib.memoryLimit",
	"lib.canonicalizationFailed", "lib.ambiguousID", "lib.wrappingOutside", "lib.wrappingOther",
	"lib.signedPropertiesElsewhere", "lib.counterSignatureRef", "lib.transformRefused", "lib.xsltRefused",
	"lib.digestMethodRefused", "lib.tooManyTransforms", "lib.unexpectedInReference", "lib.referenceIncomplete",
	// signature value
	"lib.certNotAvailable", "lib.keyUnsupported", "lib.valueMismatch", "lib.valueMismatchKeyValue", "lib.noKey",
	"lib.ecdsaShort",
	// structure
	"lib.unexpectedInSignature", "lib.textInSignature", "lib.signatureOrder", "lib.signedInfoShape",
	"lib.unexpectedInSignedInfo", "lib.tooManyReferences", "lib.c14nRefused", "lib.signatureMethodRefused",
	"lib.hmacRefused", "lib.signedPropertiesUncovered", "lib.signedPropertiesType", "lib.counterSignatureValue",
	"lib.signatureValueBase64", "lib.signedInfoC14n", "lib.tooManySignatures", "lib.qualifyingTwice",
	"lib.qualifyingTarget", "lib.qualifyingShape", "lib.signingTimeInvalid", "lib.bothSigningCertificates",
	"lib.certWithoutDigest", "lib.certDigestIncomplete", "lib.certDigestAlgorithm", "lib.certDigestBase64",
	"lib.x509Unparsable",
	// PDF signature dictionaries
	"lib.pdfTooManySignatures", "lib.pdfRevisionsUnanalysed", "lib.pdfSigDictUnreadable", "lib.pdfSigNotDict",
	"lib.byteRangeMissing", "lib.byteRangeNotIntegers", "lib.byteRangeCount", "lib.byteRangeStart",
	"lib.byteRangeOrder", "lib.byteRangeLength", "lib.byteRangeOutside", "lib.byteRangeRevisionEnd",
	"lib.contentsMissing", "lib.contentsNotString", "lib.contentsNotHex", "lib.sigDictInObjectStream",
	"lib.gapLarger", "lib.gapNotContents", "lib.contentsEmpty",
	// key usage
	"lib.keyUsage", "lib.extKeyUsage",
	// the XML parser (internal/xmldoc)
	"lib.xmlSyntax", "lib.xmlDOCTYPE", "lib.xmlTooLarge", "lib.xmlTooDeep", "lib.xmlTooMany", "lib.xmlEncoding",
	"lib.xmlCharacter", "lib.xmlTextOutside", "lib.xmlUnexpectedEnd", "lib.xmlTwoRoots", "lib.xmlNoRoot",
	"lib.xmlNotClosed", "lib.xmlEndTag", "lib.xmlUndefinedEntity", "lib.xmlUnterminatedStartTag",
	"lib.xmlUnquoted", "lib.xmlUndeclaredPrefix", "lib.xmlDuplicateAttribute", "lib.xmlMarkupDeclarations",
	// the PDF reader and what changed after a PDF signature (pades.Change.Detail)
	"lib.pdfNotPDF", "lib.pdfMalformed", "lib.trailingBytes", "lib.sigDictGone", "lib.sigDictRewritten",
	"lib.newSignatureDict", "lib.newFormStructure", "lib.newAnnotation", "lib.annotationChanged",
	"lib.annotationAppearanceChanged",
}

// libraryMessages are the catalog entries of the format libraries' texts (see libraryCodes).
var libraryMessages = map[string][2]string{
	"lib.excludingSignatures":   {"{detail}, z wyłączeniem elementów podpisu (liczba: {n})", "{detail}, excluding {n} signature element(s)"},
	"lib.filteredXPath2":        {"{detail}, zawężone filtrem XPath Filter 2.0: {filters}", "{detail}, filtered by XPath Filter 2.0: {filters}"},
	"lib.wholeDocumentComments": {"cały dokument <{root}> wraz z komentarzami", "whole document <{root}> with comments"},
	"lib.wholeDocument":         {"cały dokument <{root}>", "whole document <{root}>"},
	"lib.element":               {"element <{name}> #{id} w miejscu {path}", "element <{name}> #{id} at {path}"},
	"lib.objectHolding":         {"ds:Object #{id} zawierający <{name}>", "ds:Object #{id} holding <{name}>"},
	"lib.object":                {"ds:Object #{id}", "ds:Object #{id}"},
	"lib.signedProperties":      {"podpisane właściwości #{id}", "signed properties #{id}"},
	"lib.counterSignedValue":    {"wartość podpisu {id} podpisu kontrasygnowanego", "signature value {id} of the countersigned signature"},
	"lib.detachedFile":          {"oddzielny plik {name} ({size} bajtów, SHA-256 {sha256})", "detached file {name} ({size} bytes, SHA-256 {sha256})"},

	"lib.digestMismatch":            {"skrót obszaru „{detail}” nie zgadza się – treść zmieniono po podpisaniu", "digest of {detail} does not match"},
	"lib.digestValueInvalid":        {"DigestValue nie jest prawidłowym skrótem {alg}", "DigestValue is not a valid {alg} digest"},
	"lib.noURI":                     {"odwołanie bez URI: nie wiadomo, jakie dane podpisano", "reference without URI: the signed data is not identified"},
	"lib.noElementWithID":           {"brak elementu o Id {id|q}", "no element with Id {id|q}"},
	"lib.externalNeverFetched":      {"zewnętrzne odwołanie {uri|q} nigdy nie jest pobierane", "external reference {uri|q} is never fetched"},
	"lib.detachedNotProvided":       {"nie podano oddzielnej treści {uri|q}", "detached content {uri|q} was not provided"},
	"lib.notXML":                    {"wskazana treść nie jest dokumentem XML (opis błędu: {text})", "referenced content is not XML: {text}"},
	"lib.base64Invalid":             {"wejście przekształcenia base64 nie jest prawidłowym base64", "base64 transform input is not valid base64"},
	"lib.processingLimit":           {"odwołania tego dokumentu łącznie przekraczają limit przetwarzania ({mib} MiB)", "the references of this document together exceed the processing limit ({mib} MiB)"},
	"lib.memoryLimit":               {"zweryfikowana treść odwołań tego dokumentu łącznie przekracza limit pamięci ({mib} MiB)", "the verified content of this document's references together exceeds the memory limit ({mib} MiB)"},
	"lib.canonicalizationFailed":    {"kanonikalizacja nie powiodła się (opis błędu: {text})", "canonicalization failed: {text}"},
	"lib.ambiguousID":               {"Id {id|q} ma {n} elementów (niejednoznaczne odwołanie, możliwe opakowanie podpisu)", "Id {id|q} is carried by {n} elements (ambiguous reference, possible signature wrapping)"},
	"lib.wrappingOutside":           {"podpisany obiekt znaleziono w miejscu {path}, nie jako ds:Object podpisu (opakowanie podpisu)", "signed object found at {path}, not as a ds:Object of a signature (signature wrapping)"},
	"lib.wrappingOther":             {"podpisany obiekt znaleziono w miejscu {path}, w ds:Object innego podpisu (opakowanie podpisu)", "signed object found at {path}, in a ds:Object of another signature (signature wrapping)"},
	"lib.signedPropertiesElsewhere": {"odwołanie typu SignedProperties nie wskazuje SignedProperties tego podpisu", "reference of type SignedProperties does not point to this signature's SignedProperties"},
	"lib.counterSignatureRef":       {"odwołanie kontrasygnaty nie wskazuje wartości podpisu kontrasygnowanego", "counter-signature reference does not point to the countersigned signature value"},
	"lib.transformRefused":          {"przekształcenie {alg|q} nie jest akceptowane", "transform {alg|q} is not accepted"},
	"lib.xsltRefused":               {"przekształcenia XSLT nie są akceptowane", "XSLT transforms are not accepted"},
	"lib.digestMethodRefused":       {"metoda skrótu {alg|q} nie jest akceptowana", "digest method {alg|q} is not accepted"},
	"lib.tooManyTransforms":         {"za dużo przekształceń ({n})", "too many transforms ({n})"},
	"lib.unexpectedInReference":     {"nieoczekiwany element {name} w ds:Reference", "unexpected element {name} in ds:Reference"},
	"lib.referenceIncomplete":       {"ds:Reference nie ma DigestMethod lub DigestValue", "ds:Reference lacks DigestMethod or DigestValue"},

	"lib.certNotAvailable":      {"certyfikat podpisu wskazany w SigningCertificate jest niedostępny", "the signing certificate named in SigningCertificate is not available"},
	"lib.keyUnsupported":        {"klucz certyfikatu podpisu ({alg}) nie jest obsługiwany: nie można sprawdzić wartości podpisu", "the signing certificate's key ({alg}) is not supported: the signature value cannot be checked"},
	"lib.valueMismatch":         {"wartość podpisu nie zgadza się z kluczem certyfikatu podpisu", "the signature value does not verify with the signing certificate's key"},
	"lib.valueMismatchKeyValue": {"wartość podpisu nie zgadza się z kluczem z KeyValue", "the signature value does not verify with the KeyValue key"},
	"lib.noKey":                 {"brak certyfikatu lub klucza, którym można sprawdzić wartość podpisu", "no certificate or key to check the signature value with"},
	"lib.ecdsaShort": {"wartość podpisu ECDSA ma {n} bajtów, mniej niż {want} dla krzywej {curve}: odczytano ją jako dwie połowy dopełnione z lewej (znana wada niektórych programów, tolerowana przez inne weryfikatory)",
		"the ECDSA signature value is {n} bytes, shorter than the {want} of curve {curve}: read as two left-padded halves (a known signer defect that other verifiers tolerate)"},

	"lib.unexpectedInSignature":     {"nieoczekiwany element {name} na pozycji {n} w ds:Signature", "unexpected element {name} at position {n} of ds:Signature"},
	"lib.textInSignature":           {"tekst bezpośrednio w ds:Signature", "character data directly inside ds:Signature"},
	"lib.signatureOrder":            {"ds:Signature nie ma ds:SignedInfo lub ds:SignatureValue w wymaganej kolejności", "ds:Signature lacks ds:SignedInfo or ds:SignatureValue in the required order"},
	"lib.signedInfoShape":           {"ds:SignedInfo musi zawierać CanonicalizationMethod, SignatureMethod i co najmniej jedno Reference", "ds:SignedInfo must hold CanonicalizationMethod, SignatureMethod and at least one Reference"},
	"lib.unexpectedInSignedInfo":    {"nieoczekiwany element {name} w ds:SignedInfo", "unexpected element {name} in ds:SignedInfo"},
	"lib.tooManyReferences":         {"liczba odwołań ({n}) przekracza limit {max}", "{n} references exceed the limit of {max}"},
	"lib.c14nRefused":               {"metoda kanonikalizacji {alg|q} nie jest akceptowana", "canonicalization method {alg|q} is not accepted"},
	"lib.signatureMethodRefused":    {"metoda podpisu {alg|q} nie jest akceptowana", "signature method {alg|q} is not accepted"},
	"lib.hmacRefused":               {"metody podpisu HMAC nie są akceptowane w podpisach kluczem publicznym ({alg})", "HMAC signature methods are not accepted for public-key signatures ({alg})"},
	"lib.signedPropertiesUncovered": {"żadne odwołanie nie obejmuje xades:SignedProperties", "xades:SignedProperties are not covered by any reference"},
	"lib.signedPropertiesType":      {"odwołanie do xades:SignedProperties nie ma Type={type|q}", "the reference to xades:SignedProperties lacks Type={type|q}"},
	"lib.counterSignatureValue":     {"kontrasygnata nie odwołuje się do wartości podpisu kontrasygnowanego", "counter-signature does not reference the countersigned signature value"},
	"lib.signatureValueBase64":      {"ds:SignatureValue nie jest prawidłowym base64", "ds:SignatureValue is not valid base64"},
	"lib.signedInfoC14n":            {"kanonikalizacja SignedInfo nie powiodła się (opis błędu: {text})", "canonicalizing SignedInfo: {text}"},
	"lib.tooManySignatures":         {"więcej niż {n} podpisów w jednym dokumencie (z kontrasygnatami): pozostałych nie sprawdzono", "more than {n} signatures in one document, counter-signatures included: the others are not checked"},
	"lib.qualifyingTwice":           {"więcej niż jedno xades:QualifyingProperties", "more than one xades:QualifyingProperties"},
	"lib.qualifyingTarget":          {"Target {target|q} w xades:QualifyingProperties nie wskazuje tego podpisu", "xades:QualifyingProperties Target {target|q} does not name this signature"},
	"lib.qualifyingShape":           {"xades:QualifyingProperties musi zawierać dokładnie jedno SignedProperties", "xades:QualifyingProperties must hold exactly one SignedProperties"},
	"lib.signingTimeInvalid":        {"xades:SigningTime nie jest prawidłową wartością xs:dateTime", "xades:SigningTime is not a valid xs:dateTime"},
	"lib.bothSigningCertificates":   {"występują jednocześnie SigningCertificate i SigningCertificateV2", "both SigningCertificate and SigningCertificateV2 are present"},
	"lib.certWithoutDigest":         {"xades:Cert bez CertDigest", "xades:Cert without CertDigest"},
	"lib.certDigestIncomplete":      {"xades:CertDigest nie ma DigestMethod lub DigestValue", "xades:CertDigest lacks DigestMethod or DigestValue"},
	"lib.certDigestAlgorithm":       {"algorytm skrótu certyfikatu {alg|q} nie jest akceptowany", "certificate digest algorithm {alg|q} is not accepted"},
	"lib.certDigestBase64":          {"skrót certyfikatu nie jest prawidłowym base64", "certificate digest is not valid base64"},
	"lib.x509Unparsable":            {"nie można odczytać ds:X509Certificate", "ds:X509Certificate cannot be parsed"},

	"lib.pdfTooManySignatures":   {"{n} podpisów w jednym pliku, więcej niż limit {max}: pozostałych nie sprawdzono", "{n} signatures in one file, more than the limit of {max}: the others are not checked"},
	"lib.pdfRevisionsUnanalysed": {"nie udało się przeanalizować wersji pliku po podpisie (opis błędu: {text})", "the revisions after the signature could not be analysed: {text}"},
	"lib.pdfSigDictUnreadable":   {"nie można odczytać słownika podpisu (opis błędu: {text})", "the signature dictionary cannot be read: {text}"},
	"lib.pdfSigNotDict":          {"wartość podpisu nie jest słownikiem", "the signature value is not a dictionary"},
	"lib.byteRangeMissing":       {"brak /ByteRange", "/ByteRange is missing"},
	"lib.byteRangeNotIntegers":   {"/ByteRange nie jest tablicą liczb całkowitych", "/ByteRange is not an array of integers"},
	"lib.byteRangeCount":         {"/ByteRange ma {n} liczb zamiast 4", "/ByteRange has {n} numbers instead of 4"},
	"lib.byteRangeStart":         {"/ByteRange nie zaczyna się od 0", "/ByteRange does not start at 0"},
	"lib.byteRangeOrder":         {"zakresy /ByteRange nachodzą na siebie lub są w złej kolejności", "/ByteRange ranges overlap or are out of order"},
	"lib.byteRangeLength":        {"/ByteRange ma ujemną lub zerową długość", "/ByteRange has a negative or zero length"},
	"lib.byteRangeOutside":       {"/ByteRange wychodzi poza plik", "/ByteRange reaches outside the file"},
	"lib.byteRangeRevisionEnd":   {"/ByteRange nie kończy się na końcu wersji pliku", "/ByteRange does not end at the end of a revision"},
	"lib.contentsMissing":        {"brak /Contents", "/Contents is missing"},
	"lib.contentsNotString":      {"/Contents nie jest napisem", "/Contents is not a string"},
	"lib.contentsNotHex":         {"/Contents nie jest napisem szesnastkowym", "/Contents is not a hexadecimal string"},
	"lib.sigDictInObjectStream":  {"słownik podpisu jest w strumieniu obiektów", "the signature dictionary is inside an object stream"},
	"lib.gapLarger":              {"luka w /ByteRange jest większa niż napis /Contents", "the /ByteRange gap is larger than the /Contents string"},
	"lib.gapNotContents":         {"luka w /ByteRange nie jest napisem /Contents słownika podpisu", "the /ByteRange gap is not the /Contents string of the signature dictionary"},
	"lib.contentsEmpty":          {"/Contents jest pusty", "/Contents is empty"},

	"lib.xmlSyntax":               {"błąd XML w bajcie {offset}: {detail}", "XML error at byte {offset}: {detail}"},
	"lib.xmlDOCTYPE":              {"deklaracje DOCTYPE nie są akceptowane (bez DTD, bez encji)", "DOCTYPE declarations are not accepted (no DTDs, no entities)"},
	"lib.xmlTooLarge":             {"dokument przekracza limit rozmiaru", "document exceeds the size limit"},
	"lib.xmlTooDeep":              {"zagnieżdżenie elementów przekracza limit głębokości", "element nesting exceeds the depth limit"},
	"lib.xmlTooMany":              {"za dużo atrybutów, deklaracji przestrzeni nazw lub węzłów", "too many attributes, namespace declarations or nodes"},
	"lib.xmlEncoding":             {"akceptowane są tylko dokumenty w UTF-8", "only UTF-8 documents are accepted"},
	"lib.xmlCharacter":            {"znak {char} jest niedozwolony w XML", "character {char} is not allowed in XML"},
	"lib.xmlTextOutside":          {"tekst poza elementem głównym", "text outside the root element"},
	"lib.xmlUnexpectedEnd":        {"nieoczekiwany koniec dokumentu", "unexpected end of document"},
	"lib.xmlTwoRoots":             {"więcej niż jeden element główny", "more than one root element"},
	"lib.xmlNoRoot":               {"brak elementu głównego", "no root element"},
	"lib.xmlNotClosed":            {"element <{name}> nie jest zamknięty", "element <{name}> is not closed"},
	"lib.xmlEndTag":               {"znacznik końcowy </{name}> nie pasuje", "end tag </{name}> does not match"},
	"lib.xmlUndefinedEntity":      {"niezdefiniowana encja &{name};", "undefined entity &{name};"},
	"lib.xmlUnterminatedStartTag": {"niezakończony znacznik początkowy", "unterminated start tag"},
	"lib.xmlUnquoted":             {"wartość atrybutu musi być w cudzysłowie", "attribute value must be quoted"},
	"lib.xmlUndeclaredPrefix":     {"niezadeklarowany prefiks przestrzeni nazw {prefix|q}", "undeclared namespace prefix {prefix|q}"},
	"lib.xmlDuplicateAttribute":   {"powtórzony atrybut {name}", "duplicate attribute {name}"},
	"lib.xmlMarkupDeclarations":   {"deklaracje znaczników nie są akceptowane", "markup declarations are not accepted"},

	"lib.pdfNotPDF":                   {"nie można odczytać pliku jako PDF: {detail}", "pades: cannot read the file as a PDF: {detail}"},
	"lib.pdfMalformed":                {"plik PDF jest uszkodzony (szczegóły techniczne: {text})", "pdf: malformed file: {text}"},
	"lib.trailingBytes":               {"{n} bajtów po końcu ostatniej wersji pliku", "{n} bytes after the end of the last revision"},
	"lib.sigDictGone":                 {"słownik podpisu usunięty lub nieczytelny", "signature dictionary deleted or unreadable"},
	"lib.sigDictRewritten":            {"słownik podpisu przepisany po podpisaniu: {keys}", "signature dictionary rewritten after signing: {keys}"},
	"lib.newSignatureDict":            {"nowy słownik podpisu", "new signature dictionary"},
	"lib.newFormStructure":            {"nowa struktura formularza", "new form structure"},
	"lib.newAnnotation":               {"nowa adnotacja", "new annotation"},
	"lib.annotationChanged":           {"{obj}: zmieniona adnotacja", "{obj}: annotation changed"},
	"lib.annotationAppearanceChanged": {"{obj}: zmieniony wygląd adnotacji", "{obj}: annotation appearance changed"},

	"lib.keyUsage": {"użycie klucza certyfikatu ({usage}) nie obejmuje ani digitalSignature, ani nonRepudiation",
		"the certificate's key usage ({usage}) allows neither digitalSignature nor nonRepudiation"},
	"lib.extKeyUsage": {"rozszerzone użycie klucza certyfikatu ({usage}) wyklucza podpisywanie dokumentów",
		"the certificate's extended key usage ({usage}) excludes document signing"},
}

func init() {
	for code, e := range libraryMessages {
		if _, dup := messages[code]; dup {
			panic("verify: message " + code + " is defined twice")
		}
		messages[code] = e
	}
	for _, code := range libraryCodes {
		e, ok := libraryMessages[code]
		if !ok {
			panic("verify: library message " + code + " is not in the catalog")
		}
		libraryPatterns = append(libraryPatterns, compileTemplate(code, e[1]))
	}
}

// libraryPattern recognises one library text by its English template: literal text and placeholders in turn.
type libraryPattern struct {
	code     string
	literals []string // len(names)+1 literal pieces around the placeholders
	names    []string
	quoted   []bool
}

var libraryPatterns []libraryPattern

// compileTemplate splits a template into its literal pieces and placeholders.
func compileTemplate(code, tmpl string) libraryPattern {
	p := libraryPattern{code: code}
	last := 0
	for _, loc := range placeholder.FindAllStringIndex(tmpl, -1) {
		p.literals = append(p.literals, tmpl[last:loc[0]])
		name, quote := strings.CutSuffix(tmpl[loc[0]+1:loc[1]-1], "|q")
		p.names, p.quoted = append(p.names, name), append(p.quoted, quote)
		last = loc[1]
	}
	p.literals = append(p.literals, tmpl[last:])
	return p
}

// match splits text along the template: each placeholder takes the text up to the first occurrence of the next
// literal (the last one, up to the final literal at the end); a quoted placeholder takes one Go-quoted string.
// It costs one pass over text; a text that splits wrongly is caught by the caller's check that the message
// renders back to it.
func (p *libraryPattern) match(text string) (map[string]string, bool) {
	first, final := p.literals[0], p.literals[len(p.literals)-1]
	if len(p.names) == 0 {
		return nil, text == first
	}
	if !strings.HasPrefix(text, first) || !strings.HasSuffix(text, final) || len(text) < len(first)+len(final) {
		return nil, false
	}
	rest, end := text[len(first):], len(text)-len(first)-len(final)
	vals := make(map[string]string, len(p.names))
	for i, name := range p.names {
		var v string
		switch {
		case p.quoted[i]:
			q, err := strconv.QuotedPrefix(rest)
			if err != nil || len(q) > end {
				return nil, false
			}
			if v, err = strconv.Unquote(q); err != nil {
				return nil, false
			}
			rest, end = rest[len(q):], end-len(q)
		case i == len(p.names)-1:
			v, rest, end = rest[:end], rest[end:], 0
		default:
			k := strings.Index(rest[:end], p.literals[i+1])
			if k <= 0 {
				return nil, false
			}
			v, rest, end = rest[:k], rest[k:], end-k
		}
		if v == "" {
			return nil, false
		}
		lit := p.literals[i+1]
		if i < len(p.names)-1 {
			if !strings.HasPrefix(rest[:end], lit) {
				return nil, false
			}
			rest, end = rest[len(lit):], end-len(lit)
		}
		vals[name] = v
	}
	if end != 0 {
		return nil, false
	}
	return vals, true
}

// Bounds of fromLibrary: library texts quote names, Ids and paths from the document, so an attacker chooses their
// length and nesting; past these a text is shown as it is.
const (
	maxLibraryText  = 2048
	maxLibraryDepth = 3
)

// fromLibrary gives a format library's English text its catalog code and parameters. A text no entry describes
// (or too long or nested too deep to look at) keeps code "text" and is shown as it is; the English rendering of
// the result is always the text itself.
func fromLibrary(text string) Message { return fromLibraryDepth(text, 0) }

func fromLibraryDepth(text string, depth int) Message {
	if len(text) > maxLibraryText || depth > maxLibraryDepth {
		return msg(codeText, "text", text)
	}
	for i := range libraryPatterns {
		p := &libraryPatterns[i]
		vals, ok := p.match(text)
		if !ok {
			continue
		}
		m := Message{Code: p.code}
		for name, v := range vals {
			if name == "detail" {
				d := fromLibraryDepth(v, depth+1)
				m.Detail = &d
				continue
			}
			if m.Params == nil {
				m.Params = map[string]string{}
			}
			m.Params[name] = v
		}
		if m.English() == text {
			return m
		}
	}
	return msg(codeText, "text", text)
}
