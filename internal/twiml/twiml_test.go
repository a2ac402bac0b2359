package twiml

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestDocumentsAreWellFormed(t *testing.T) {
	docs := map[string][]byte{
		"empty":  Empty(),
		"hangup": Hangup(),
		"say":    SayThenHangup(`Sorry <we> missed you & "bye"`),
	}
	for name, doc := range docs {
		var v struct {
			XMLName xml.Name
			Say     string    `xml:"Say"`
			Hangup  *struct{} `xml:"Hangup"`
		}
		if err := xml.Unmarshal(doc, &v); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, doc)
		}
		if v.XMLName.Local != "Response" {
			t.Fatalf("%s: root %q", name, v.XMLName.Local)
		}
		if !strings.HasPrefix(string(doc), "<?xml") {
			t.Fatalf("%s: no XML header", name)
		}
		switch name {
		case "empty":
			if v.Hangup != nil || v.Say != "" {
				t.Fatalf("empty has verbs: %s", doc)
			}
		case "hangup":
			if v.Hangup == nil {
				t.Fatalf("no Hangup: %s", doc)
			}
		case "say":
			if v.Say != `Sorry <we> missed you & "bye"` || v.Hangup == nil {
				t.Fatalf("say round trip failed: %s", doc)
			}
		}
	}
}
