package twiml

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSayThenHangup renders whatever a business might put in its greeting and checks that the
// document stays exactly one Response with one Say and one Hangup (no text can open a verb of its
// own), and that the spoken text comes back unchanged whenever XML can carry it at all.
func FuzzSayThenHangup(f *testing.F) {
	for _, s := range []string{
		"Sorry we missed you, we'll text you right away.",
		`</Say><Dial>+19005550100</Dial><Say>`,
		`<![CDATA[<Redirect>https://evil.example</Redirect>]]>`,
		"&amp; &lt; &#x0; \x00 \x1b[31m \r\n\t",
		"\xff\xfe invalid UTF-8 \xc3",
		"emoji 📞 and RTL \u202e and BOM \ufeff and \uFFFE",
		strings.Repeat("a", 4096),
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		doc := SayThenHangup(text)
		var v struct {
			XMLName xml.Name
			Say     []string   `xml:"Say"`
			Hangup  []struct{} `xml:"Hangup"`
		}
		if err := xml.Unmarshal(doc, &v); err != nil {
			t.Fatalf("not well-formed: %v\n%q", err, doc)
		}
		if v.XMLName.Local != "Response" || len(v.Say) != 1 || len(v.Hangup) != 1 {
			t.Fatalf("want one Say and one Hangup in a Response, got %+v\n%q", v, doc)
		}
		// Only the two verbs: count every element the document opens.
		dec := xml.NewDecoder(bytes.NewReader(doc))
		elements := 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if _, ok := tok.(xml.StartElement); ok {
				elements++
			}
		}
		if elements != 3 {
			t.Fatalf("%d elements, want Response, Say and Hangup\n%q", elements, doc)
		}
		if xmlSafe(text) && v.Say[0] != text {
			t.Fatalf("spoken text changed: %q became %q", text, v.Say[0])
		}
		if !utf8.ValidString(v.Say[0]) {
			t.Fatalf("spoken text is not UTF-8: %q", v.Say[0])
		}
	})
}

// xmlSafe reports whether XML 1.0 can carry s as character data unchanged.
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\t', r == '\n', r == '\r':
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
	}
	return true
}
