//go:build tools

// Package temporal pins the Temporal CLI (dev server and Web UI) in a module of its own: its
// server dependencies do not compile against the API version the application's SDK requires.
package temporal

import _ "github.com/temporalio/cli/cmd/temporal"
