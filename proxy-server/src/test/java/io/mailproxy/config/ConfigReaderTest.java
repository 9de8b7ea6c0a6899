package io.mailproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ConfigReader} and {@link Schema} on a reference of their own, so that what a new key
 * takes is seen in isolation: one line in the reference, one record component, one read call.
 */
class ConfigReaderTest {

    private static final String REFERENCE = """
            mailproxy {
              widgets {}
              defaults {
                widget {
                  size = 3
                  colour = red
                  ttl = null
                  parts = []
                }
                part { name = "" }
              }
            }
            mailproxy-schema {
              "widgets" = { entries = defaults.widget }
              "defaults.widget.parts" = { elements = defaults.part }
            }
            """;

    @TempDir
    Path dir;

    private Path file;

    /** A record as the settings records are: it validates itself and reads itself. */
    record Widget(String name, int size, String colour, Duration ttl, List<String> parts) {
        Widget {
            if (size == 7) {
                throw new IllegalArgumentException("7 is unlucky");
            }
        }

        static Widget read(ConfigReader r) {
            return new Widget(r.name(), r.intIn("size", 0, 10), r.string("colour"), r.optionalDuration("ttl"),
                    r.list("parts", p -> p.parsed("name", s -> ConfigReader.nonEmpty(s, "a part needs a name"))));
        }
    }

    private <T> T read(String text, Function<ConfigReader, T> read) throws Exception {
        file = Files.writeString(dir.resolve("test.conf"), text);
        Config reference = ConfigFactory.parseString(REFERENCE).resolve();
        Config user = ConfigFactory.parseFile(file.toFile()).resolve();
        return ConfigLoader.read(user, user.withFallback(reference).resolve(), Schema.of(reference), read);
    }

    private Map<String, Widget> widgets(String text) throws Exception {
        return read(text, r -> r.map("widgets", Widget::read));
    }

    private List<String> problems(String text) {
        return assertThrows(ConfigurationException.class, () -> widgets(text)).problems().stream()
                .map(p -> p.line() + ": " + p.path() + ": " + p.message()).toList();
    }

    @Test
    void entriesAreReadOverTheirDefaultsInFileOrder() throws Exception {
        Map<String, Widget> w = widgets("""
                mailproxy.widgets {
                  b { colour = blue, ttl = 5s, parts = [{ name = x }] }
                  a { size = 4 }
                }
                """);
        assertEquals(List.of("b", "a"), List.copyOf(w.keySet()));
        assertEquals(new Widget("b", 3, "blue", Duration.ofSeconds(5), List.of("x")), w.get("b"));
        assertEquals(new Widget("a", 4, "red", null, List.of()), w.get("a"));
    }

    @Test
    void everyProblemAtOnceShapesFirstEachOnItsLine() throws Exception {
        assertEquals(List.of(
                "3: mailproxy.widgets.b.colour: expected a single value like \"red\", found a list",
                "4: mailproxy.widgets.c.sise: unknown key (did you mean \"size\"?)",
                "5: mailproxy.widgets.d.parts.0: expected an object with the keys of mailproxy.defaults.part, found \"x\"",
                "6: mailproxy.widgets.e.size: expected a single value like 3, found null",
                "2: mailproxy.widgets.a.size: 11 is not within 0..10",
                "6: mailproxy.widgets.e.parts.0.name: a part needs a name"),
                problems("""
                        mailproxy.widgets {
                          a { size = 11 }
                          b { colour = [x] }
                          c { sise = 1 }
                          d { parts = [x] }
                          e { size = null, parts = [{}] }
                        }
                        """));
    }

    @Test
    void aFailedReadGivesTheReferenceDefaultSoChecksBetweenKeysAddNothing() throws Exception {
        int[] seen = new int[1];
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> read(
                "mailproxy.widgets.a.size = many\n",
                r -> r.map("widgets", w -> seen[0] = w.intIn("size", 0, 10))));
        assertEquals(3, seen[0]);
        assertEquals(List.of(file + ":1: mailproxy.widgets.a.size: expected a whole number from 0 to 10"),
                e.problems().stream().map(ConfigProblem::toString).toList());
    }

    @Test
    void aConstructorsRefusalIsAProblemAtTheRecordsObject() {
        assertEquals(List.of("3: mailproxy.widgets.a: 7 is unlucky"), problems("""
                mailproxy.widgets {
                  b { size = 6 }
                  a {
                    size = 7
                  }
                }
                """));
    }

    @Test
    void aProblemWithADefaultIsPlacedAtTheObjectTheFileWrote() {
        // Negative control of the line: the key itself is not in the file, its object is.
        assertEquals(List.of("2: mailproxy.widgets.a.parts.0.name: a part needs a name"),
                problems("mailproxy.widgets {\n  a.parts = [{}]\n}\n"));
    }

    @Test
    void aReadThatDisagreesWithTheReferenceOnNullIsABugWhateverTheFile() {
        String valid = "mailproxy.widgets.a.colour = blue\n";
        IllegalStateException optional = assertThrows(IllegalStateException.class,
                () -> read(valid, r -> r.map("widgets", w -> w.optionalString("colour"))));
        assertTrue(optional.getMessage().contains("mailproxy.defaults.widget.colour"), optional.getMessage());
        IllegalStateException required = assertThrows(IllegalStateException.class,
                () -> read(valid, r -> r.map("widgets", w -> w.duration("ttl"))));
        assertTrue(required.getMessage().contains("mailproxy.defaults.widget.ttl"), required.getMessage());
    }

    @Test
    void aReferenceThatContradictsItselfIsABug() {
        String[] broken = {
            "mailproxy { a = 1 }\nmailproxy-schema { \"b\" = { nullable = true } }",
            "mailproxy { a = 1, o {} }\nmailproxy-schema { \"a\" = { elements = o } }",
            "mailproxy { a = [], o = 1 }\nmailproxy-schema { \"a\" = { elements = o } }",
            "mailproxy { a = [], o {} }\nmailproxy-schema { \"a\" = { element = o } }",
        };
        for (String reference : broken) {
            assertThrows(IllegalStateException.class, () -> Schema.of(ConfigFactory.parseString(reference)), reference);
        }
        // Negative control: the same, consistent.
        Schema.of(ConfigFactory.parseString("mailproxy { a = [], o {} }\nmailproxy-schema { \"a\" = { elements = o } }"));
    }
}
