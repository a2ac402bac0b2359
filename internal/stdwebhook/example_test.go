package stdwebhook_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ringback/ringback/internal/stdwebhook"
)

// A receiver verifies the raw body before parsing it, and dedupes on webhook-id.
func ExampleVerify() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if err := stdwebhook.Verify(secret, r.Header, body, time.Now(), 0); err != nil {
			status := http.StatusUnauthorized
			if errors.Is(err, stdwebhook.ErrMissingHeader) {
				status = http.StatusBadRequest
			}
			http.Error(w, "bad signature", status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	body := `{"type":"booking.created","timestamp":"2026-03-01T10:00:00Z","data":{"id":"b_1"}}`
	h, _ := stdwebhook.Headers(secret, "evt_1", time.Now(), []byte(body))
	req := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code)

	tampered := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(strings.Replace(body, "b_1", "b_2", 1)))
	for k, v := range h {
		tampered.Header[k] = v
	}
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, tampered)
	fmt.Println(rec.Code)
	// Output:
	// 204
	// 401
}
