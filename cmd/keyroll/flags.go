package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlags returns a silent flag set for c; parseFlags does the talking.
func newFlags(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments, and
// returns the positional arguments. On -h it prints the usage and returns
// code exitOK; on an error it says what is wrong and returns exitUsage;
// otherwise code is -1.
func parseFlags(fs *flag.FlagSet, c *command, e *env, args []string) (pos []string, code int) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, c.usage)
			fmt.Fprintln(e.stdout, "\nFlags:")
			printFlags(e.stdout, fs)
			return nil, exitOK
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "keyroll %s: %v\nRun \"keyroll %s -h\" for help.\n", c.name, err, c.name)
			return nil, exitUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), -1
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printFlags lists fs's flags as people type them: --name VALUE, the usage
// on the next line, and the default when it is not the zero value.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		fmt.Fprintln(w, line)
		def := f.DefValue
		if def != "" && def != "false" && def != "0" && def != "0s" && def != "[]" {
			usage += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "      %s\n", usage)
	})
}
