// Package greeting renders the first text a caller receives. Templates are plain text with a
// single placeholder, {business}, so a business owner can edit them without learning a template
// language and without any way to inject markup or reach other data.
package greeting

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Placeholder is replaced with the business name.
const Placeholder = "{business}"

// MissedCall is the default first text after a missed call.
const MissedCall = "Hi, this is {business}. Sorry we missed your call! How can we help? " +
	"Reply here and we'll take care of you. Reply STOP to opt out."

// InboundText is the default first reply when a caller texts before calling.
const InboundText = "Thanks for texting {business}! We got your message and will reply here " +
	"shortly. Reply STOP to opt out."

// MaxLen bounds a rendered text to two GSM-7 segments' worth of characters; longer first texts
// cost more and read worse.
const MaxLen = 320

// Validate checks a tenant-supplied template.
func Validate(template string) error {
	if strings.TrimSpace(template) == "" {
		return fmt.Errorf("greeting template is empty")
	}
	if !utf8.ValidString(template) {
		return fmt.Errorf("greeting template is not valid UTF-8")
	}
	if !strings.Contains(template, Placeholder) {
		return fmt.Errorf("greeting template must contain %s so callers know who is texting", Placeholder)
	}
	if n := utf8.RuneCountInString(template); n > MaxLen {
		return fmt.Errorf("greeting template is %d characters, the limit is %d", n, MaxLen)
	}
	return nil
}

// Render substitutes the business name into template.
func Render(template, business string) string {
	return strings.ReplaceAll(template, Placeholder, business)
}
