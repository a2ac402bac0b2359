// Package twiliosig computes X-Twilio-Signature values, so `ringback simulate` and tests can send
// webhooks exactly as Twilio signs them. Checking signatures is left to twilio-go's validator;
// this package only produces them.
package twiliosig

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"sort"
)

// Sign returns the signature of a form-encoded webhook: base64(HMAC-SHA1(authToken, url followed
// by every parameter's key and value, sorted by key)).
func Sign(authToken, url string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(url))
	for _, k := range keys {
		mac.Write([]byte(k))
		mac.Write([]byte(params[k]))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
