package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCommand writes a man page for every command into a directory.
func manCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "man DIR",
		Short: "write man pages for keyroll and every command into DIR",
		Long: `Usage: keyroll man DIR

Writes keyroll.1 and a page per command (keyroll-apps-create.1, ...) into
DIR, creating it, from the same text as each command's -h.

Examples:
  keyroll man /usr/local/share/man/man1 && man keyroll-serve
`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, &doc.GenManHeader{Title: "KEYROLL", Section: "1", Source: "keyroll"}, args[0]); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote man pages to %s\n", args[0])
			return nil
		},
	}
}
