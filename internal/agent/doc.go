// Package agent is what the conversation workflow needs to talk to callers on a business's
// behalf, with a model or without one:
//
//   - Business: the facts about the business the assistant may use, and nothing else.
//   - SystemPrompt and PublicFacts: the model's instructions, and the part of them it is meant to
//     repeat (which the outbound guard lets through).
//   - Tools and ParseToolCall: the model's only powers, as neutral JSON Schema definitions, and the
//     validation of every call it makes before anything happens. A rejected call's error is sent
//     back to the model as the tool result, so the messages say how to fix the call.
//   - DetectEscalation: a caller asking for a person, or describing an emergency.
//   - Script: a deterministic conversation that collects a service, a time and a name when no model
//     answers, so a caller is never left without a reply.
//   - Progress: the rule that hands a model conversation to a person when it goes nowhere.
//
// The package is pure: no I/O, no clock (callers pass now), no randomness, no maps ranged over in
// an order that shows. Workflow code calls it, and a replay must get the same answers. It knows
// nothing of any model client: the activity that calls the model converts Tool and the tool-call
// strings to and from its client's types.
//
// Opt-out keywords (STOP and the rest) are not handled here: the webhook records them before any
// of this runs (see package optout).
package agent
