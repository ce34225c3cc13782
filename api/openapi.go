package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// op documents one route for the OpenAPI description. Routes are registered through handle, so the description
// and the router cannot disagree (TestOpenAPIMatchesRoutes checks it anyway).
type op struct {
	Summary string
	// Auth is "" (public), "client:SCOPE" (integrator API key), "holder" (profile holder session), "officer",
	// "holder|officer" (either session), "admin" or "metrics" (the metrics token).
	Auth string
	// Request names a schema in components (JSON body), or "document" for a raw/multipart document upload.
	Request string
	// Responses maps a status to a schema name ("" for no body, "problem" for problem+json).
	Responses map[int]string
	Tags      []string
	// Headers are request headers the route reads, by name, with their description (all required).
	Headers map[string]string
}

type routeEntry struct {
	method, path string
	doc          op
}

// handle registers a route and its documentation. A route behind duringMaintenance documents its 503.
func (s *Server) handle(method, path string, doc op, h ...gin.HandlerFunc) {
	s.engine.Handle(method, path, h...)
	doc.Responses = maps.Clone(doc.Responses)
	if doc.Responses == nil {
		doc.Responses = map[int]string{}
	}
	maint := reflect.ValueOf(s.duringMaintenance).Pointer()
	for _, f := range h {
		if reflect.ValueOf(f).Pointer() == maint {
			doc.Responses[http.StatusServiceUnavailable] = "problem"
		}
	}
	s.docs = append(s.docs, routeEntry{method, path, doc})
}

// operationIDs name every route's operation for generated clients; TestOpenAPIDocument fails for a route missing
// here.
var operationIDs = map[string]string{
	"GET /healthz":        "healthz",
	"GET /readyz":         "readyz",
	"GET /metrics":        "metrics",
	"GET /openapi.json":   "openapi",
	"POST /v1/verify":     "verifyDocument",
	"GET /v1/maintenance": "listMaintenanceWindows",

	"POST /v1/profiles":                                            "registerProfile",
	"POST /v1/profiles/:id/contact-confirmation":                   "confirmContact",
	"POST /v1/profiles/:id/contact-confirmation/resend":            "resendContactCode",
	"POST /v1/sessions":                                            "login",
	"POST /v1/password-resets":                                     "requestPasswordReset",
	"POST /v1/password-resets/confirm":                             "resetPassword",
	"DELETE /v1/sessions/current":                                  "logout",
	"GET /v1/profiles/me":                                          "getMyProfile",
	"POST /v1/profiles/me/extension-code":                          "requestExtensionCode",
	"POST /v1/profiles/me/extension":                               "extendProfile",
	"POST /v1/profiles/me/revocation":                              "revokeProfile",
	"POST /v1/profiles/lookup":                                     "lookupProfile",
	"POST /v1/profiles/confirmations/idp":                          "confirmWithIdP",
	"GET /v1/profiles/confirmations/qualified/:applicationNumber":  "getQualifiedConfirmationDocument",
	"POST /v1/profiles/confirmations/qualified/:applicationNumber": "confirmWithQualifiedSignature",

	"GET /v1/officer/applications/:applicationNumber":                "getApplication",
	"POST /v1/officer/applications/:applicationNumber/confirm":       "confirmInPerson",
	"POST /v1/officer/applications/:applicationNumber/confirm-video": "confirmByVideoCall",

	"POST /v1/signing-requests":             "submitSigningRequest",
	"GET /v1/signing-requests/:id":          "getSigningRequest",
	"GET /v1/signing-requests/:id/document": "getSignedDocument",
	"GET /v1/signing-requests/:id/preview":  "previewSigningRequest",
	"POST /v1/signing-requests/:id/code":    "requestSigningCode",
	"POST /v1/signing-requests/:id/confirm": "confirmSigning",
	"POST /v1/signing-requests/:id/cancel":  "cancelSigning",
}

// operationID is the route's name, or a name made from the path for a route not in operationIDs yet.
func operationID(method, ginPath string) string {
	if id, ok := operationIDs[method+" "+ginPath]; ok {
		return id
	}
	return strings.ToLower(method) + strings.NewReplacer("/", "_", ":", "", "-", "_", ".", "_").Replace(ginPath)
}

// moreResponses are statuses that a route's handler answers and its op does not list (found by
// TestE2EOpenAPIStatusesDocumented); they belong in the op, where the route is registered.
var moreResponses = map[string]map[int]string{
	"POST /v1/profiles/confirmations/qualified/:applicationNumber": {404: "problem"}, // unknown application
}

// statuses are the statuses a route can answer: its own, plus those of its authentication and body reading.
func statuses(r routeEntry) map[int]string {
	out := maps.Clone(r.doc.Responses)
	for code, schema := range moreResponses[r.method+" "+r.path] {
		if _, ok := out[code]; !ok {
			out[code] = schema
		}
	}
	add := func(codes ...int) {
		for _, c := range codes {
			if _, ok := out[c]; !ok {
				out[c] = "problem"
			}
		}
	}
	switch {
	case r.doc.Auth == "":
	case r.doc.Auth == "metrics":
		add(401)
	case strings.HasPrefix(r.doc.Auth, "client"):
		add(401, 403) // no or unknown key; key without the scope
	case strings.Contains(r.doc.Auth, "|"):
		add(401) // any session will do
	default:
		add(401, 403) // no session; a session of another role
	}
	if r.doc.Request != "" {
		add(400, 413, 415) // malformed body, too large, wrong media type
	}
	return out
}

func openapiPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func (s *Server) openapiDocument() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range s.docs {
		p := openapiPath(r.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		o := map[string]any{"summary": r.doc.Summary, "operationId": operationID(r.method, r.path)}
		if len(r.doc.Tags) > 0 {
			o["tags"] = r.doc.Tags
		}
		var params []any
		for _, seg := range strings.Split(r.path, "/") {
			if strings.HasPrefix(seg, ":") {
				params = append(params, map[string]any{"name": seg[1:], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		for _, h := range slices.Sorted(maps.Keys(r.doc.Headers)) {
			params = append(params, map[string]any{"name": h, "in": "header", "required": true,
				"description": r.doc.Headers[h], "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			o["parameters"] = params
		}
		switch {
		case r.method == "POST" && r.path == "/v1/verify":
			// anyone may verify (rate limited per address); an integrator key with the verify scope lifts the limit
			o["security"] = []any{map[string]any{}, map[string]any{"apiKey": []any{}}}
			o["x-scope"] = "verify"
		case r.doc.Auth == "":
			o["security"] = []any{}
		case r.doc.Auth == "metrics":
			o["security"] = []any{map[string]any{"metricsToken": []any{}}}
		case strings.HasPrefix(r.doc.Auth, "client"):
			o["security"] = []any{map[string]any{"apiKey": []any{}}}
			if sc := strings.TrimPrefix(r.doc.Auth, "client:"); sc != r.doc.Auth {
				o["x-scope"] = sc
			}
		default:
			o["security"] = []any{map[string]any{"session": []any{}}, map[string]any{"sessionCookie": []any{}}}
			o["x-role"] = r.doc.Auth
		}
		switch {
		case r.doc.Request == "":
		case r.doc.Request == "document" && r.path == "/v1/verify":
			o["requestBody"] = verifyRequestBody
			o["parameters"] = append(params, map[string]any{"name": "name", "in": "query", "required": false,
				"description": "the document's file name for the report (raw bodies; a multipart part carries its own)",
				"schema":      str, "example": "umowa.xml"})
		case r.doc.Request == "document":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/xml": binary, "text/xml": binary, "application/octet-stream": binary}}
		default:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(r.doc.Request)}}}
		}
		resps := map[string]any{}
		responses := statuses(r)
		codes := make([]int, 0, len(responses))
		for code := range responses {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		for _, code := range codes {
			schema := responses[code]
			resp := map[string]any{"description": statusText(code)}
			switch schema {
			case "":
			case "problem":
				resp["content"] = map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}
				if code == 429 || code == 503 {
					resp["headers"] = map[string]any{"Retry-After": map[string]any{"description": "seconds to wait", "schema": intT}}
				}
			case "binary":
				// the signed document or the confirmation document, in its own media type
				resp["content"] = map[string]any{"application/xml": binary, "application/pdf": binary, "application/octet-stream": binary}
			case "text":
				resp["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
			default:
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": ref(schema)}}
			}
			resps[itoa(code)] = resp
		}
		resps["default"] = map[string]any{"description": "Error", "content": map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}}
		o["responses"] = resps
		paths[p][strings.ToLower(r.method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "trustsign API", "version": "1",
			"description": "Trusted-signature service: integrators submit documents for signing, profile holders confirm with a one-time code, anyone verifies."},
		// relative: the server that serves this document (RFC 3986 resolution, OpenAPI 3.1 §4.8.5)
		"servers": []any{map[string]any{"url": "/", "description": "this service"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"apiKey":  map[string]any{"type": "http", "scheme": "bearer", "description": "Integrator API key (trustsign admin client create)"},
				"session": map[string]any{"type": "http", "scheme": "bearer", "description": "Session token from POST /v1/sessions"},
				"sessionCookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie,
					"description": "The session cookie set by POST /v1/sessions (browsers)"},
				"metricsToken": map[string]any{"type": "http", "scheme": "bearer", "description": "The metrics token (serve --metrics-token-file)"},
			},
			"schemas": schemas,
		},
	}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (s *Server) openapi(c *gin.Context) {
	s.openapiOnce.Do(func() { s.openapiJSON, _ = json.MarshalIndent(s.openapiDocument(), "", "  ") })
	c.Data(200, "application/json", s.openapiJSON)
}

// obj builds a JSON schema object with required properties (names ending in "?" are optional).
func obj(props map[string]any) map[string]any {
	p := map[string]any{}
	var req []string
	for k, v := range props {
		name := strings.TrimSuffix(k, "?")
		p[name] = v
		if name == k {
			req = append(req, name)
		}
	}
	sort.Strings(req)
	out := map[string]any{"type": "object", "properties": p}
	if len(req) > 0 {
		out["required"] = req
	}
	return out
}

var (
	str    = map[string]any{"type": "string"}
	strDT  = map[string]any{"type": "string", "format": "date-time"}
	intT   = map[string]any{"type": "integer"}
	boolT  = map[string]any{"type": "boolean"}
	strArr = map[string]any{"type": "array", "items": str}
	binary = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
)

func enum(values ...string) map[string]any { return map[string]any{"type": "string", "enum": values} }

func arrayOf(item string) map[string]any { return map[string]any{"type": "array", "items": ref(item)} }

func described(schema map[string]any, description string) map[string]any {
	out := maps.Clone(schema)
	out["description"] = description
	return out
}

func example(schema map[string]any, ex any) map[string]any {
	out := maps.Clone(schema)
	out["examples"] = []any{ex}
	return out
}

// The enumerations of the API's JSON (the domain packages' constants).
var (
	profileStatus    = enum("pending", "active", "invalid", "expired", "revoked")
	requestStatus    = enum("pending", "signed", "failed", "expired", "cancelled")
	indication       = enum("TOTAL_PASSED", "INDETERMINATE", "TOTAL_FAILED", "NO_SIGNATURE_FOUND")
	subIndication    = enum("FORMAT_FAILURE", "HASH_FAILURE", "SIG_CRYPTO_FAILURE", "REVOKED", "SIG_CONSTRAINTS_FAILURE", "CHAIN_CONSTRAINTS_FAILURE", "CERTIFICATE_CHAIN_GENERAL_FAILURE", "CRYPTO_CONSTRAINTS_FAILURE_NO_POE", "OUT_OF_BOUNDS_NO_POE", "NO_CERTIFICATE_CHAIN_FOUND", "NO_SIGNING_CERTIFICATE_FOUND", "SIGNED_DATA_NOT_FOUND")
	check            = enum("passed", "failed", "not-checked")
	channel          = enum("sms", "email")
	confirmMethod    = enum("in-person", "idp", "qualified-certificate", "video-call")
	documentFormat   = enum("xades", "pades", "auto")
	signedFormat     = enum("xades", "pades")
	baselineLevel    = enum("b-b", "b-t", "b-lt", "b-lta")
	reportFormat     = enum("xades", "xmldsig", "pades", "unknown")
	identityDocument = enum("id-card", "passport")
)

// verifyRequestBody is what POST /v1/verify accepts: the document as the raw body, or a multipart form with the
// document and the detached files its references name.
var verifyRequestBody = map[string]any{"required": true, "content": map[string]any{
	"application/xml":          binary,
	"text/xml":                 binary,
	"application/pdf":          binary,
	"application/octet-stream": binary,
	"multipart/form-data": map[string]any{"schema": obj(map[string]any{
		"file":      described(map[string]any{"type": "string", "format": "binary"}, "the signed document (exactly one)"),
		"detached?": described(map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "binary"}}, "files referenced by a detached signature, matched by file name"),
	})},
}}

var signingRequestExample = map[string]any{"id": "r_9f2c4e1a7b", "status": "pending", "signUrl": "https://pz.example.gov.pl/sign/r_9f2c4e1a7b",
	"expiresAt": "2026-12-10T12:00:00Z", "fileName": "wniosek.xml", "format": "xades", "size": 1834, "created": "2026-12-03T12:00:00Z",
	"verificationPhrase": "lipa-most-sowa-rzeka"}

// schemas are the components of the OpenAPI description: one per JSON shape of the API, item types included.
var schemas = map[string]any{
	"Problem": example(obj(map[string]any{"type": str, "title": str, "status": intT, "detail?": str, "instance?": str,
		"requestId?": str, "retryAfter?": described(intT, "seconds; also the Retry-After header")}),
		map[string]any{"type": problemBase + "invalid-code", "title": "Invalid or expired code", "status": 422,
			"instance": "/v1/signing-requests/r_9f2c4e1a7b/confirm", "requestId": "5d0c2e8f4b1a9c7d3e6f2a1b"}),
	"Health": obj(map[string]any{"status": enum("ok", "ready")}),

	"Registration": example(obj(map[string]any{"login": str, "password": str, "firstName": str, "secondName?": str, "surname": str,
		"pesel": described(str, "11 digits with a valid checksum"), "email": str, "phone": str, "codeChannel": channel}),
		map[string]any{"login": "ola_nowak", "password": "Dlugie-Haslo-2026!", "firstName": "Ola", "surname": "Nowak",
			"pesel": "02270803624", "email": "ola@example.test", "phone": "+48500100200", "codeChannel": "email"}),
	"RegistrationResult": example(obj(map[string]any{"id": str, "applicationNumber": str, "status": profileStatus,
		"applicationSecret": described(str, "only the applicant has it: send it as the Application-Secret header to fetch the qualified confirmation document")}),
		map[string]any{"id": "p_4b1a9c7d", "applicationNumber": "PZ-2026-000123", "status": "pending", "applicationSecret": "as_8Jq2vX0bT1mN4kR7"}),
	"Code":  example(obj(map[string]any{"code": str}), map[string]any{"code": "483920"}),
	"Login": example(obj(map[string]any{"login": str, "password": str}), map[string]any{"login": "ola_nowak", "password": "Dlugie-Haslo-2026!"}),
	"Session": example(obj(map[string]any{"token": str, "role": enum("holder", "officer"), "expires": strDT}),
		map[string]any{"token": "s_Zm9vYmFyYmF6", "role": "holder", "expires": "2026-12-03T12:30:00Z"}),
	"Confirmation": obj(map[string]any{"method": confirmMethod, "at": strDT, "documentType?": identityDocument}),
	"Profile": obj(map[string]any{"id": str, "applicationNumber": str, "login": str, "firstName": str, "secondName?": str,
		"surname": str, "pesel": str, "email": str, "phone": str, "codeChannel": channel, "status": profileStatus, "temporary": boolT,
		"contactConfirmed": boolT, "created": strDT, "applicationExpires?": strDT, "expires?": strDT, "confirmation?": ref("Confirmation")}),
	"CodeInfo": example(obj(map[string]any{"expiresAt": strDT, "channel": channel, "verificationPhrase?": str}),
		map[string]any{"expiresAt": "2026-12-03T12:05:00Z", "channel": "sms", "verificationPhrase": "lipa-most-sowa-rzeka"}),
	"IdentityDocument": example(obj(map[string]any{"documentType": identityDocument, "documentNumber": str}),
		map[string]any{"documentType": "id-card", "documentNumber": "ABC123456"}),
	"IdPAssertion": obj(map[string]any{"assertion": described(str, "the identity provider's signed assertion (compact JWS)")}),
	"Lookup":       example(obj(map[string]any{"pesel": str}), map[string]any{"pesel": "02270803624"}),
	"LookupResult": obj(map[string]any{"status": profileStatus, "profileId": str, "login": str, "firstName": str, "secondName?": str,
		"surname": str, "pesel": str, "email": str, "phone": str, "confirmationMethod": confirmMethod, "temporary": boolT,
		"created": strDT, "expires?": strDT}),
	"MaintenanceWindow":  obj(map[string]any{"id": str, "start": strDT, "end": strDT, "message": str, "active": boolT}),
	"MaintenanceWindows": obj(map[string]any{"windows": arrayOf("MaintenanceWindow"), "now": strDT}),

	"SubmissionDocument": obj(map[string]any{"document": map[string]any{"type": "string", "contentEncoding": "base64"}, "fileName": str,
		"format?": documentFormat, "level?": described(baselineLevel, "this document's level (default: the submission's)")}),
	"SigningSubmission": example(obj(map[string]any{"document?": map[string]any{"type": "string", "contentEncoding": "base64"},
		"fileName?": str, "format?": documentFormat, "successUrl?": str, "failureUrl?": str, "additionalInfo?": str,
		"level?":     described(baselineLevel, "the baseline level to seal at (ETSI EN 319 132 / 319 142): b-t adds a signature time-stamp, b-lt the certificates and revocation data, b-lta an archive time-stamp. Default and maximum: the service's configured level; a higher one is refused with 400 level-not-allowed"),
		"webhook?":   described(boolT, "POST {id, batchId, status, signedAt} to successUrl or failureUrl when the request ends; fetch the status through the API to act on it. Delivered at least once, retried for about ten minutes until answered 2xx; the X-Trustsign-Delivery header is the same on every attempt of one notification (deduplicate on it), X-Trustsign-Request is the request's id"),
		"documents?": described(arrayOf("SubmissionDocument"), "several documents confirmed with one code (then leave document empty)")}),
		map[string]any{"document": "PHduaW9zZWs+Li4uPC93bmlvc2VrPg==", "fileName": "wniosek.xml", "format": "auto",
			"successUrl": "https://integrator.example/done", "failureUrl": "https://integrator.example/failed"}),
	"SigningRequest": example(obj(map[string]any{"id": str, "status": requestStatus, "signUrl": str, "expiresAt": strDT, "fileName?": str,
		"format?": signedFormat, "contentType?": str, "size?": intT, "additionalInfo?": str, "created?": strDT, "batchId?": str,
		"signedAt?": strDT, "failureReason?": str, "verificationPhrase": str, "level?": baselineLevel,
		"timestamps?": described(arrayOf("SealTimeStamp"), "the seal's time-stamps (once signed at b-t or above)"),
		"seal?":       described(ref("Seal"), "the seal that signed (once signed): after a rotation, which seal made this signature"),
		"requests?":   described(arrayOf("SigningRequest"), "every request of a batch (a submission of several documents)")}), signingRequestExample),
	"PreviewDocument": obj(map[string]any{"id": str, "status": requestStatus, "signUrl": str, "expiresAt": strDT, "fileName": str,
		"format": signedFormat, "contentType?": str, "size": intT, "additionalInfo?": str, "created": strDT, "batchId?": str,
		"signedAt?": strDT, "failureReason?": str, "verificationPhrase": str, "level?": baselineLevel,
		"timestamps?": arrayOf("SealTimeStamp"),
		"seal?":       ref("Seal"),
		"document":    map[string]any{"type": "string", "contentEncoding": "base64"}}),
	"Seal": obj(map[string]any{"fingerprint": described(str, "sha256: and the hex SHA-256 of the seal's certificate (DER)"),
		"subject": described(str, "the seal certificate's subject")}),
	"SealTimeStamp": obj(map[string]any{"kind": described(enum("signature", "archive", "document"), "signature: over the signature value (B-T); archive: XAdES B-LTA; document: a PDF document time-stamp (PAdES B-LTA)"),
		"time": described(strDT, "the TSA's genTime"), "tsa": described(str, "the subject of the TSA's certificate")}),
	"SigningPreview": obj(map[string]any{"verificationPhrase": str, "documents": arrayOf("PreviewDocument")}),
	"SigningResult": example(obj(map[string]any{"status": requestStatus, "redirectUrl?": str, "requests": arrayOf("SigningRequest")}),
		map[string]any{"status": "signed", "redirectUrl": "https://integrator.example/done", "requests": []any{signingRequestExample}}),

	"VerificationReport": example(described(obj(map[string]any{"file": str, "format": reportFormat, "indication": indication,
		"signatures": arrayOf("SignatureReport"), "error?": str, "errorCode?": ref("Message"), "note?": str, "noteCode?": ref("Message"),
		"validationTime?": strDT}), "the report of trustsign verify --json"),
		map[string]any{"file": "umowa.xml", "format": "xades", "indication": "NO_SIGNATURE_FOUND", "signatures": []any{}}),
	"SignatureReport": obj(map[string]any{"id": str, "indication": indication, "subIndication?": subIndication,
		"signer":             map[string]any{"oneOf": []any{ref("Signer"), map[string]any{"type": "null"}}},
		"signingTime":        map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
		"signingTimeSource?": str,
		"trustedProfile":     map[string]any{"oneOf": []any{ref("TrustedProfile"), map[string]any{"type": "null"}}},
		"claimedProfile?":    ref("TrustedProfile"), "covered": map[string]any{"type": []string{"array", "null"}, "items": str},
		"checks": ref("Checks"), "reasons?": strArr, "warnings?": strArr, "algorithm?": str, "level?": str,
		"wrappedFile?": ref("WrappedFile"), "counterSignatures?": arrayOf("SignatureReport"), "changes?": arrayOf("Change"),
		"modified?":     boolT,
		"reasonCodes?":  described(arrayOf("Message"), "reasons as codes with parameters, in the order of reasons (translate these)"),
		"warningCodes?": described(arrayOf("Message"), "warnings as codes with parameters, in the order of warnings"),
		"coveredCodes?": described(arrayOf("Message"), "what each covered entry says, as codes with parameters")}),
	"Message": described(obj(map[string]any{"code": str, "params?": map[string]any{"type": "object", "additionalProperties": str},
		"detail?": ref("Message")}), "a reason, warning or coverage text as a stable code with its parameters; the English text is beside it"),
	"Signer": obj(map[string]any{"subject": str, "issuer": str, "serial": str, "notBefore": strDT, "notAfter": strDT}),
	"TrustedProfile": obj(map[string]any{"firstName": str, "secondName?": str, "surname": str, "pesel": str, "profileId": str,
		"login": str, "dateOfBirth?": str}),
	"Checks": obj(map[string]any{"structure": check, "digests": check, "signatureValue": check, "signingCertificate": check,
		"chain": check}),
	"WrappedFile": obj(map[string]any{"name": str, "mimeType": str, "size": intT, "sha256": str}),
	"Change":      obj(map[string]any{"revision": intT, "kind": str, "allowed": boolT, "detail?": str}),
}
