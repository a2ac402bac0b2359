package model

// bound returns msgs cut to at most limit messages: every system message, and the most recent other
// turns that fit. An assistant turn with tool calls and the tool results right after it are kept or
// dropped together, because a result without its call (or a call without its results) is a request
// the API rejects. The most recent turn is kept even when it alone exceeds the limit. Order is kept.
func bound(msgs []Message, limit int) []Message {
	if len(msgs) <= limit {
		return msgs
	}
	type span struct{ start, end int }
	var turns []span
	system := 0
	for i := 0; i < len(msgs); {
		if msgs[i].Role == RoleSystem {
			system++
			i++
			continue
		}
		j := i + 1
		if msgs[i].Role == RoleAssistant && len(msgs[i].ToolCalls) > 0 {
			for j < len(msgs) && msgs[j].Role == RoleTool {
				j++
			}
		}
		turns = append(turns, span{i, j})
		i = j
	}

	keep := make([]bool, len(msgs))
	room := limit - system
	for k := len(turns) - 1; k >= 0; k-- {
		t := turns[k]
		n := t.end - t.start
		if n > room && k < len(turns)-1 {
			break
		}
		room -= n
		for i := t.start; i < t.end; i++ {
			keep[i] = true
		}
	}
	out := make([]Message, 0, limit)
	for i, m := range msgs {
		if keep[i] || m.Role == RoleSystem {
			out = append(out, m)
		}
	}
	return out
}
