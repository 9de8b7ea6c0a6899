package io.mailproxy.demo;

import java.io.PrintStream;

/** {@code mailproxy demo}. */
public final class Demo {
    private Demo() {
    }

    public static int run(PrintStream out, PrintStream err) {
        err.println("demo: not yet");
        return 1;
    }
}
