// Command loom runs Loom's engine from the command line: text generation,
// tokenization, raw logits and chat templates. Its input and output formats
// are the engine's external test contract (see `loom help`).
//
// Exit status: 0 on success, 1 for bad input or a failure (one line on
// stderr), 2 for wrong usage.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand: its name, a one-line summary for `loom help`,
// and the function that runs it.
type command struct {
	name, summary string
	run           func(args []string, io stdio) error
}

// stdio is where a command reads and writes; tests substitute buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// commands lists the subcommands in the order `loom help` shows them.
var commands = []command{
	{"run", "generate text from a prompt, streamed to stdout", runRun},
	{"tokenize", "text on stdin to token ids", runTokenize},
	{"detokenize", "token ids on stdin to text", runDetokenize},
	{"logits", "raw float32 logits of every prompt position to a file", runLogits},
	{"generate", "generate token ids from prompt ids", runGenerate},
	{"chat-template", "render a JSON conversation on stdin with the model's chat template", runChatTemplate},
	{"verify", "generate and print the model, input and logits hashes that audit the run", runVerify},
	{"pull", "download a model from the Hugging Face Hub into the shared cache", runPull},
	{"train-tokenizer", "train a byte-level BPE tokenizer on text and chat files", runTrainTokenizer},
	{"train", "train a small Llama-family model from scratch, deterministically", runTrain},
	{"bench", "measure prompt and generation speed and peak memory, llama-bench style", runBench},
}

func main() {
	os.Exit(mainCode(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr}))
}

// mainCode runs the command line args and returns the exit status. A panic
// anywhere below becomes a one-line error, never a stack trace.
func mainCode(args []string, s stdio) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(s.err, "loom: internal error: %s\n", oneLine(fmt.Sprint(p)))
			code = 1
		}
	}()
	if len(args) == 0 {
		fmt.Fprintln(s.err, "loom: no command; run 'loom help' for usage")
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		return help(args[1:], s)
	}
	for _, c := range commands {
		if c.name == name {
			return report(name, c.run(args[1:], s), s)
		}
	}
	fmt.Fprintf(s.err, "loom: unknown command %q; run 'loom help' for usage\n", name)
	return 2
}

// help prints the command list, or one command's usage for `loom help CMD`.
func help(args []string, s stdio) int {
	if len(args) > 0 {
		for _, c := range commands {
			if c.name == args[0] {
				return report(c.name, c.run([]string{"-h"}, s), s)
			}
		}
		fmt.Fprintf(s.err, "loom help: unknown command %q\n", args[0])
		return 2
	}
	fmt.Fprintln(s.out, "usage: loom COMMAND [flags] [args]")
	fmt.Fprintln(s.out)
	fmt.Fprintln(s.out, "commands:")
	for _, c := range commands {
		fmt.Fprintf(s.out, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(s.out)
	fmt.Fprintln(s.out, "Run 'loom COMMAND -h' for a command's flags.")
	return 0
}

// usageError marks wrong usage (exit status 2) as opposed to bad input or a
// failure (exit status 1).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// errHelp is returned by a command that printed its usage for -h.
var errHelp = errors.New("help requested")

// report prints err for command name as one line and returns the exit
// status.
func report(name string, err error, s stdio) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(s.err, "loom %s: %s; run 'loom %s -h' for usage\n", name, oneLine(ue.msg), name)
		return 2
	default:
		fmt.Fprintf(s.err, "loom %s: %s\n", name, oneLine(err.Error()))
		return 1
	}
}

// oneLine joins the lines of msg, so that every error stays on one line.
func oneLine(msg string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ")), " ")
}
