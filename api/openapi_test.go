package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// stubs give New non-nil services so that every route is registered (their methods are never called here).
type stubProfiles struct{ Profiles }
type stubSigning struct{ Signing }

// fullDocument is the OpenAPI description of a server with every route, as JSON would give it to a client.
func fullDocument(t *testing.T) (*Server, map[string]any) {
	t.Helper()
	s := newTestServer(t, Config{Profiles: stubProfiles{}, Signing: stubSigning{}, MetricsToken: "metrics-token-0123456789"})
	w := do(t, s, "GET", "/openapi.json", "", nil)
	if w.Code != 200 {
		t.Fatalf("openapi.json: %d", w.Code)
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return s, doc
}

func at(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// walk calls f for every JSON object in v, with its location.
func walk(v any, where string, f func(where string, m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(where, x)
		for k, c := range x {
			walk(c, where+"/"+k, f)
		}
	case []any:
		for i, c := range x {
			walk(c, fmt.Sprintf("%s/%d", where, i), f)
		}
	}
}

// TestOpenAPIDocument checks the description structurally: every $ref resolves and every schema is used, every
// route has a named operationId and the statuses its authentication and body reading can answer, the closed sets
// of values are enums, objects and arrays say what they hold, and the verify endpoint lists its media types and
// its optional key.
func TestOpenAPIDocument(t *testing.T) {
	s, doc := fullDocument(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Errorf("openapi %q", v)
	}
	if servers, _ := doc["servers"].([]any); len(servers) == 0 || at(servers[0], "url") == nil {
		t.Error("no servers")
	}
	schemas, _ := at(doc, "components", "schemas").(map[string]any)
	used := map[string]bool{}
	walk(doc, "#", func(where string, m map[string]any) {
		r, ok := m["$ref"].(string)
		if !ok {
			return
		}
		name, found := strings.CutPrefix(r, "#/components/schemas/")
		if !found || schemas[name] == nil {
			t.Errorf("%s: $ref %q does not resolve", where, r)
		}
		used[name] = true
	})
	for name := range schemas {
		if !used[name] {
			t.Errorf("schema %s is not used by any route", name)
		}
	}
	// objects list their properties, arrays their items: no untyped "object" left for a client to guess
	walk(at(doc, "components", "schemas"), "#/components/schemas", func(where string, m map[string]any) {
		if strings.HasSuffix(where, "/properties") || strings.HasSuffix(where, "/examples") || strings.Contains(where, "/examples/") {
			return
		}
		switch m["type"] {
		case "object":
			if m["properties"] == nil && m["additionalProperties"] == nil { // a map types its values
				t.Errorf("%s: object without properties", where)
			}
		case "array":
			if m["items"] == nil {
				t.Errorf("%s: array without items", where)
			}
		}
	})
	for _, e := range []struct{ schema, property string }{
		{"Profile", "status"}, {"RegistrationResult", "status"}, {"LookupResult", "status"}, {"SigningRequest", "status"},
		{"SigningResult", "status"}, {"VerificationReport", "indication"}, {"SignatureReport", "indication"},
		{"SignatureReport", "subIndication"}, {"Checks", "chain"}, {"Registration", "codeChannel"}, {"Session", "role"},
	} {
		if enum, _ := at(schemas, e.schema, "properties", e.property, "enum").([]any); len(enum) < 2 {
			t.Errorf("%s.%s is not an enum", e.schema, e.property)
		}
	}
	examples := 0
	for _, sc := range schemas {
		if at(sc, "examples") != nil {
			examples++
		}
	}
	if examples < 8 {
		t.Errorf("only %d schemas have examples", examples)
	}

	ids := map[string]string{}
	for _, r := range s.docs {
		op, _ := at(doc, "paths", openapiPath(r.path), strings.ToLower(r.method)).(map[string]any)
		if op == nil {
			t.Errorf("%s %s is not described", r.method, r.path)
			continue
		}
		name := r.method + " " + r.path
		id, _ := op["operationId"].(string)
		if _, named := operationIDs[name]; !named || id == "" {
			t.Errorf("%s has no named operationId (add it to operationIDs)", name)
		}
		if other, dup := ids[id]; dup {
			t.Errorf("operationId %s names both %s and %s", id, other, name)
		}
		ids[id] = name
		resps, _ := op["responses"].(map[string]any)
		want := []string{}
		switch auth := r.doc.Auth; {
		case auth == "":
		case strings.HasPrefix(auth, "client"):
			want = append(want, "401", "403")
		default:
			want = append(want, "401")
		}
		if op["requestBody"] != nil {
			want = append(want, "400", "413", "415")
		}
		for _, code := range want {
			if resps[code] == nil {
				t.Errorf("%s does not document %s", name, code)
			}
		}
		for code, resp := range resps {
			if code != "default" && at(resp, "description") == "" {
				t.Errorf("%s %s: no description", name, code)
			}
		}
	}
	if len(ids) != len(s.docs) {
		t.Errorf("%d operationIds for %d routes", len(ids), len(s.docs))
	}

	// a route behind duringMaintenance documents its 503 (its op does not say it)
	if at(doc, "paths", "/v1/profiles/me/extension", "post", "responses", "503") == nil {
		t.Error("POST /v1/profiles/me/extension does not document the maintenance 503")
	}

	v, _ := at(doc, "paths", "/v1/verify", "post").(map[string]any)
	content, _ := at(v, "requestBody", "content").(map[string]any)
	for _, mt := range []string{"application/xml", "text/xml", "application/pdf", "application/octet-stream", "multipart/form-data"} {
		if content[mt] == nil {
			t.Errorf("POST /v1/verify does not take %s", mt)
		}
	}
	sec, _ := v["security"].([]any)
	if len(sec) != 2 || len(sec[0].(map[string]any)) != 0 || at(sec[1], "apiKey") == nil {
		t.Errorf("POST /v1/verify security %v: want anonymous or an optional API key", sec)
	}
	if sec, _ := at(doc, "paths", "/metrics", "get", "security").([]any); len(sec) != 1 || at(sec[0], "metricsToken") == nil {
		t.Errorf("GET /metrics security %v: want the metrics token", sec)
	}
}
