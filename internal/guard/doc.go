// Package guard checks text on its way into and out of the AI conversation: Inbound for every SMS
// a caller sends before a model sees it (P03), Outbound for every reply a model writes before it
// is sent (P04). It is pure: no I/O, no clock, no randomness, so workflow code may call it and a
// replay gets the same verdict.
//
// # Inbound
//
// Inbound returns the text the model may see and a verdict on it.
//
// Cleaning: invalid UTF-8 is dropped; the text is put in NFKC (fullwidth, mathematical, circled and
// superscript letters become plain ones); control characters, format characters (zero-width
// spaces and joiners, bidirectional marks, embeddings, overrides and isolates, word joiners, the
// byte order mark, soft hyphens, tag characters), private-use characters, Hangul fillers and
// variation selectors are removed, except one emoji presentation selector after a visible
// character; combining marks beyond four on one character are removed. Tabs and Unicode spaces
// become spaces, every kind of line break becomes '\n'; runs of whitespace collapse to one space,
// or one '\n' when they contain a line break, because line structure is what a fake "System:"
// turn relies on and keeping it lets the rules see it. The result is cut to MaxRunes (1600 by
// default, Twilio's limit for a concatenated SMS) at a rune boundary.
//
// Scoring: the cleaned text is folded for matching only (accents dropped, Cyrillic, Greek and
// other look-alike letters mapped to Latin, leetspeak read as letters, letter-spaced and
// punctuation-split words joined) and matched against rules for instruction overrides, requests
// for the prompt, persona switches, fake system or assistant turns and chat markup, tool-call
// syntax, claims of authority and requests for other customers' data, in English, Spanish,
// French, German and Portuguese. Text hidden in tag characters or variation selectors, reversed by
// a bidirectional override, or encoded as base64, hex, escapes or binary (or as ROT13 or written
// backwards, when the message says so) is recovered and scored as well, and hiding an instruction
// adds to the score. The verdict names the rules that
// matched, never the text that matched them, and grades the message None, Suspicious or Likely.
// InboundVerdict.ToolsAllowed takes the model's tools away for any turn that is not None, and
// InjectionStreak escalates a conversation with repeated attempts. Inbound also flags messages
// with nothing but emoji and spaces (Empty), for the conversation logic to treat as a reaction
// rather than a request.
//
// # Outbound
//
// Outbound blocks a reply that contains a phone number, email address, payment card or Social
// Security number that is not the caller's own or the business's (using the pii package), the name
// or a number of another business on the platform, a run of words copied from the system prompt,
// talk about its own instructions, or tool-call syntax. The reply is scanned as a phone would
// show it, so fullwidth or foreign-script digits, zero-width characters between digits, look-alike
// letters in numbers ("614-555-O187") and numbers spelled out in English words do not get past
// it. A blocked reply is replaced by OutboundVerdict.SafeReply and the conversation escalated.
//
// # Why heuristics, and what they do not do
//
// The guards reduce risk; they do not remove it, and nothing else may rely on them. What keeps an
// injection harmless is the design around the model: its only powers are tools whose arguments
// the server validates (a booking is checked against real availability and price, an escalation
// only pages a person), it only ever sees its own conversation, and whatever it writes passes
// Outbound. Within that design, pattern rules are the right tool: they are cheap (about 50 µs for
// a typical SMS, 0.1 ms for a typical reply), deterministic and so safe in workflow code, explainable by the rule
// names in each verdict, and measurable against the labelled corpora in testdata. A classifier
// would be none of those, and could be talked round by the very text it judges.
//
// Known limits:
//   - Rules match phrasings somebody wrote down. An instruction worded in a way no rule foresaw,
//     or in a language other than those above, gets through the scoring (the cleaning still
//     applies). On hostile messages written after the rules, about three in five were caught on
//     first sight; see corpus_test.go for the figures.
//   - Each message is scored alone. An instruction split across several texts is not joined up;
//     InjectionStreak only counts the attempts that are caught.
//   - Some innocent messages are flagged: "can you act as a go-between with my landlord" reads
//     like a role assignment. A false Suspicious only costs the caller tool use for one turn.
//   - Clean keeps text in the order it was sent: a bidirectional override is removed, not
//     applied, so the model reads what a reader saw reversed. Emoji built with zero-width joiners
//     fall apart into their parts, and subdivision flags (🏴 with tag letters) become plain flags.
//   - Outbound finds what the pii package finds: a number without an area code, one spelled out in
//     a language other than English, or one split into unusual groups other than North American
//     ones gets through. Names and street addresses are never blocked, except other tenants'
//     names, which match only in full; a tenant whose name is an ordinary word ("Smile") blocks
//     innocent replies. A paraphrase of the system prompt is not a quote of it; a copy with one
//     word inserted is.
//   - Outbound does its work afresh on every call, in time proportional to the reply, the system
//     prompt and the number of other tenants passed in.
//   - Rate limiting, the rest of P03, happens at ingress, not here.
package guard
