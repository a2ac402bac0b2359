package ingress

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ringback/ringback/internal/access"
	internalcodec "github.com/ringback/ringback/internal/codec"
	"github.com/ringback/ringback/internal/tenantspec"
	"github.com/ringback/ringback/keyring"
	"github.com/ringback/ringback/workflows"
)

// historyPayloads returns every payload in a workflow's history as the server stores it.
func (h *harness) historyPayloads(workflowID string) []*commonpb.Payload {
	h.t.Helper()
	var out []*commonpb.Payload
	it := h.raw.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			h.t.Fatal(err)
		}
		collectPayloads(ev.ProtoReflect(), &out)
	}
	return out
}

func collectPayloads(m protoreflect.Message, out *[]*commonpb.Payload) {
	if p, ok := m.Interface().(*commonpb.Payload); ok {
		*out = append(*out, p)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i := 0; i < v.List().Len(); i++ {
				collectPayloads(v.List().Get(i).Message(), out)
			}
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				collectPayloads(mv.Message(), out)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			collectPayloads(v.Message(), out)
		}
		return true
	})
}

func encrypted(ps []*commonpb.Payload) []*commonpb.Payload {
	var out []*commonpb.Payload
	for _, p := range ps {
		if string(p.Metadata[converter.MetadataEncoding]) == internalcodec.MetadataEncodingEncrypted {
			out = append(out, p)
		}
	}
	return out
}

func TestHistoriesAreEncryptedAtRest(t *testing.T) {
	h := newHarness(t)
	h.post("/twilio/voice/status", callForm(sid("CA", 30), "no-answer"))
	h.eventually("the first text", func() bool { return len(h.twilio.Texts()) == 1 })
	if resp := h.post("/twilio/sms", smsForm(sid("SM", 30), "my email is jo@example.com")); resp.StatusCode != http.StatusOK {
		t.Fatalf("sms answered %d", resp.StatusCode)
	}
	all := h.historyPayloads(h.workflowID())
	enc := encrypted(all)
	if len(enc) < 5 {
		t.Fatalf("only %d of %d payloads are encrypted", len(enc), len(all))
	}
	for _, p := range all {
		raw, _ := proto.Marshal(p)
		for _, secret := range []string{"6145550123", "5005550006", "Demo Plumbing", "jo@example.com"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("history stores %q in the clear (payload metadata %v)", secret, p.Metadata)
			}
		}
	}
	for _, p := range enc {
		if id := string(p.Metadata[internalcodec.MetadataKeyID]); id != h.tenant.ID+"/v1" {
			t.Fatalf("payload sealed under %q, want the tenant's key", id)
		}
	}
	// With the codec the same history reads back, including the caller's text.
	dec, err := h.codec.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	var joined strings.Builder
	for _, p := range dec {
		joined.Write(p.Data)
	}
	if !strings.Contains(joined.String(), "jo@example.com") {
		t.Fatal("decoded history lacks the inbound text")
	}
}

func TestDestroyingATenantsKeysShredsOpenAndClosedHistories(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	other, err := h.db.CreateTenant(ctx, tenantspec.Spec{Name: "Other Dental", Numbers: []string{"+15005550007"}, Timezone: "America/Chicago", OwnerPhone: "+16145550101"})
	if err != nil {
		t.Fatal(err)
	}
	// Tenant A: one open conversation and one closed one. Tenant B: one open conversation.
	h.post("/twilio/voice/status", callForm(sid("CA", 40), "no-answer"))
	closed := callForm(sid("CA", 41), "no-answer")
	closed["From"] = "+16145550124"
	h.post("/twilio/voice/status", closed)
	otherCall := callForm(sid("CA", 42), "no-answer")
	otherCall["To"] = "+15005550007"
	h.post("/twilio/voice/status", otherCall)
	h.eventually("three first texts", func() bool { return len(h.twilio.Texts()) == 3 })
	closedID, _ := workflows.ConversationWorkflowID(h.tenant.ID, h.hasher.Hash("+16145550124"))
	if err := h.tc.TerminateWorkflow(ctx, closedID, "", "closed for the test"); err != nil {
		t.Fatal(err)
	}
	otherID, _ := workflows.ConversationWorkflowID(other.ID, h.hasher.Hash(callerPhone))

	histories := map[string][]*commonpb.Payload{}
	for _, id := range []string{h.workflowID(), closedID, otherID} {
		histories[id] = encrypted(h.historyPayloads(id))
		if _, err := h.codec.Decode(histories[id]); err != nil {
			t.Fatalf("%s unreadable before shredding: %v", id, err)
		}
	}

	if err := h.keys.Destroy(ctx, h.tenant.ID); err != nil {
		t.Fatal(err)
	}
	// A process that never cached the key is no better off.
	fresh, err := keyring.New([]byte(strings.Repeat("k", 32)), h.db)
	if err != nil {
		t.Fatal(err)
	}
	freshCodec := internalcodec.New(fresh, workflows.KeyScope)
	for _, id := range []string{h.workflowID(), closedID} {
		for _, c := range []*internalcodec.Codec{h.codec, freshCodec} {
			if _, err := c.Decode(histories[id]); !errors.Is(err, internalcodec.ErrKeyDestroyed) {
				t.Fatalf("%s after shredding: err = %v, want ErrKeyDestroyed", id, err)
			}
		}
	}
	if _, err := freshCodec.Decode(histories[otherID]); err != nil {
		t.Fatalf("another tenant's history became unreadable: %v", err)
	}
	// The Web UI's codec endpoint cannot read it either.
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: histories[closedID][:1]})
	resp := h.codecRequest("/codec/decode", "Bearer "+h.opsToken, "", body)
	if resp.StatusCode == http.StatusOK {
		t.Fatal("codec endpoint decoded a shredded payload")
	}
}

func (h *harness) codecRequest(path, auth, origin string, body []byte) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return h.do(req)
}

func TestCodecEndpointServesOpsOnly(t *testing.T) {
	h := newHarness(t)
	h.post("/twilio/voice/status", callForm(sid("CA", 50), "no-answer"))
	h.eventually("the first text", func() bool { return len(h.twilio.Texts()) == 1 })
	enc := encrypted(h.historyPayloads(h.workflowID()))
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	if err != nil {
		t.Fatal(err)
	}

	refused := []struct {
		name, path, auth, origin string
		status                   int
	}{
		{"no token", "/codec/decode", "", uiOrigin, 401},
		{"wrong bearer", "/codec/decode", "Bearer not-the-ops-token-at-all", uiOrigin, 401},
		{"wrong path token", "/codec/not-the-ops-token-at-all/decode", "", uiOrigin, 401},
		{"compliance token", "/codec/decode", "Bearer " + h.token(access.Compliance, ""), "", 403},
		{"tenant-admin token", "/codec/decode", "Bearer " + h.token(access.TenantAdmin, h.tenant.ID), "", 403},
		{"foreign origin", "/codec/decode", "Bearer " + h.opsToken, "https://evil.example.com", 403},
		{"unknown operation", "/codec/peek", "Bearer " + h.opsToken, "", 404},
	}
	for _, c := range refused {
		resp := h.codecRequest(c.path, c.auth, c.origin, body)
		if got := bodyOf(resp); resp.StatusCode != c.status || strings.Contains(got, "6145550123") {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, got, c.status)
		}
	}

	for _, c := range []struct{ name, path, auth string }{
		{"bearer", "/codec/decode", "Bearer " + h.opsToken},
		{"path token (Web UI)", "/codec/" + h.opsToken + "/decode", ""},
	} {
		resp := h.codecRequest(c.path, c.auth, uiOrigin, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, bodyOf(resp))
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != uiOrigin {
			t.Fatalf("%s: Allow-Origin = %q", c.name, got)
		}
		var out commonpb.Payloads
		if err := protojson.Unmarshal([]byte(bodyOf(resp)), &out); err != nil {
			t.Fatal(err)
		}
		var joined strings.Builder
		for _, p := range out.Payloads {
			joined.Write(p.Data)
		}
		if !strings.Contains(joined.String(), callerPhone) {
			t.Fatalf("%s: decoded payloads lack the caller's number", c.name)
		}
	}

	// CORS preflight: the UI's origin is granted, others are not.
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, h.srv.URL+"/codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		return h.do(req)
	}
	if resp := pre(uiOrigin); resp.StatusCode != http.StatusNoContent ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Fatalf("preflight from the UI: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := pre("https://evil.example.com"); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from a foreign origin: %d", resp.StatusCode)
	}

	// Encoding through the endpoint seals under the control scope.
	plain, _ := converter.GetDefaultDataConverter().ToPayload(map[string]string{"note": "hello"})
	reqBody, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
	resp := h.codecRequest("/codec/encode", "Bearer "+h.opsToken, "", reqBody)
	var sealed commonpb.Payloads
	if err := protojson.Unmarshal([]byte(bodyOf(resp)), &sealed); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("encode response: %d %v", resp.StatusCode, err)
	}
	if len(sealed.Payloads) != 1 || string(sealed.Payloads[0].Metadata[internalcodec.MetadataKeyID]) != "control/v1" {
		t.Fatalf("encode sealed %v", sealed.Payloads)
	}
}
