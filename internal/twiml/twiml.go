// Package twiml renders the few TwiML documents Ringback answers Twilio with.
package twiml

import (
	"encoding/xml"
)

// ContentType is the media type Twilio expects for TwiML.
const ContentType = "text/xml; charset=utf-8"

type response struct {
	XMLName xml.Name `xml:"Response"`
	Verbs   []any
}

type say struct {
	XMLName xml.Name `xml:"Say"`
	Text    string   `xml:",chardata"`
}

type hangup struct {
	XMLName xml.Name `xml:"Hangup"`
}

// Empty is a response that tells Twilio to do nothing more: used for status callbacks and for
// inbound SMS, whose replies go out through the REST API from the conversation workflow.
func Empty() []byte { return render() }

// Hangup ends the call.
func Hangup() []byte { return render(hangup{}) }

// SayThenHangup speaks text to the caller, then ends the call. Text is escaped.
func SayThenHangup(text string) []byte { return render(say{Text: text}, hangup{}) }

func render(verbs ...any) []byte {
	out, err := xml.Marshal(response{Verbs: verbs})
	if err != nil {
		// The types above always marshal; a failure here is a programming error.
		panic("twiml: " + err.Error())
	}
	return append([]byte(xml.Header), out...)
}
