package main

import (
	"context"
	"fmt"
	"runtime"
)

func runVersion(_ context.Context, env *cliEnv, _ []string) error {
	fmt.Fprintf(env.stdout, "portal %s (%s)\n", version, runtime.Version())
	return nil
}
