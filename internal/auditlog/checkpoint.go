package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// checkpointPrefix starts every checkpoint's text. Naming the log inside the signed text stops a
// checkpoint of one log from being passed off as another's.
const checkpointPrefix = "ringback audit "

// Checkpoint states that a log had Size records whose tree root was Root.
type Checkpoint struct {
	LogID string
	Size  int64
	Root  tlog.Hash
}

// Text is the checkpoint as signed:
//
//	ringback audit <log id>
//	<size>
//	<base64 root>
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s%s\n%d\n%s\n", checkpointPrefix, c.LogID, c.Size, c.Root)
}

// SignCheckpoint returns c as a signed note.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: c.Text()}, signer)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

// OpenCheckpoint checks msg's signature against verifiers and parses the checkpoint it carries.
func OpenCheckpoint(msg []byte, verifiers note.Verifiers) (Checkpoint, error) {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			var by []string
			for _, s := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
			}
			return Checkpoint{}, fmt.Errorf("signed only by unknown keys (%s)", strings.Join(by, ", "))
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("signature by %s+%08x does not verify", invalid.Name, invalid.Hash)
		}
		return Checkpoint{}, fmt.Errorf("not a signed checkpoint: %w", err)
	}
	return ParseCheckpoint(n.Text)
}

// ParseCheckpoint parses a checkpoint's text (without checking any signature).
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.Split(text, "\n")
	if len(lines) != 4 || lines[3] != "" || !strings.HasPrefix(lines[0], checkpointPrefix) {
		return Checkpoint{}, errors.New("malformed checkpoint text")
	}
	c := Checkpoint{LogID: strings.TrimPrefix(lines[0], checkpointPrefix)}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) || !ValidLogID(c.LogID) {
		return Checkpoint{}, errors.New("malformed checkpoint text")
	}
	c.Size = size
	if c.Root, err = tlog.ParseHash(lines[2]); err != nil {
		return Checkpoint{}, errors.New("malformed checkpoint root")
	}
	return c, nil
}

// ReadCheckpoint parses a signed checkpoint without checking its signature, for a writer reading
// back what it signed itself. Anything that trusts a checkpoint must use OpenCheckpoint.
func ReadCheckpoint(msg []byte) (Checkpoint, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, errors.New("not a signed checkpoint")
	}
	return ParseCheckpoint(string(msg[:i+1]))
}

// claimedSize reads the size from a checkpoint whose signature failed, only to say which
// checkpoint is bad. It returns 0 if even the text is unreadable.
func claimedSize(msg []byte) int64 {
	c, err := ReadCheckpoint(msg)
	if err != nil {
		return 0
	}
	return c.Size
}
