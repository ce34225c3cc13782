package api

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// op documents one route for the OpenAPI description. Routes are registered through handle, so the description
// and the router cannot disagree (TestOpenAPIMatchesRoutes checks it anyway).
type op struct {
	Summary string
	// Auth is "" (public), "client:SCOPE" (integrator API key), "holder" (profile holder session), "officer" or
	// "admin".
	Auth string
	// Request names a schema in components (JSON body), or "document" for a raw/multipart document upload.
	Request string
	// Responses maps a status to a schema name ("" for no body, "problem" for problem+json).
	Responses map[int]string
	Tags      []string
}

type routeEntry struct {
	method, path string
	doc          op
}

// handle registers a route and its documentation.
func (s *Server) handle(method, path string, doc op, h ...gin.HandlerFunc) {
	s.engine.Handle(method, path, h...)
	s.docs = append(s.docs, routeEntry{method, path, doc})
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
		o := map[string]any{"summary": r.doc.Summary, "operationId": strings.ToLower(r.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(p)}
		if len(r.doc.Tags) > 0 {
			o["tags"] = r.doc.Tags
		}
		var params []any
		for _, seg := range strings.Split(r.path, "/") {
			if strings.HasPrefix(seg, ":") {
				params = append(params, map[string]any{"name": seg[1:], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		if params != nil {
			o["parameters"] = params
		}
		switch {
		case r.doc.Auth == "":
			o["security"] = []any{}
		case strings.HasPrefix(r.doc.Auth, "client"):
			o["security"] = []any{map[string]any{"apiKey": []any{}}}
			if sc := strings.TrimPrefix(r.doc.Auth, "client:"); sc != r.doc.Auth {
				o["x-scope"] = sc
			}
		default:
			o["security"] = []any{map[string]any{"session": []any{}}}
			o["x-role"] = r.doc.Auth
		}
		switch r.doc.Request {
		case "":
		case "document":
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/xml":     map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
				"application/pdf":     map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
				"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "properties": map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}}},
			}}
		default:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(r.doc.Request)}}}
		}
		resps := map[string]any{}
		codes := make([]int, 0, len(r.doc.Responses))
		for code := range r.doc.Responses {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		for _, code := range codes {
			schema := r.doc.Responses[code]
			resp := map[string]any{"description": statusText(code)}
			switch schema {
			case "":
			case "problem":
				resp["content"] = map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}
			case "binary":
				resp["content"] = map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
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
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"apiKey":  map[string]any{"type": "http", "scheme": "bearer", "description": "Integrator API key (trustsign admin client create)"},
				"session": map[string]any{"type": "http", "scheme": "bearer", "description": "Session token from POST /v1/sessions (or the session cookie)"},
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
)

// schemas are the components of the OpenAPI description; route files add theirs in init functions.
var schemas = map[string]any{
	"Problem": obj(map[string]any{"type": str, "title": str, "status": intT, "detail?": str, "instance?": str,
		"requestId?": str, "retryAfter?": intT}),
	"Health": obj(map[string]any{"status": str}),
	"VerificationReport": map[string]any{"type": "object", "description": "The report of trustsign verify --json",
		"properties": map[string]any{"file": str, "format": str, "indication": str, "signatures": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}},
}
