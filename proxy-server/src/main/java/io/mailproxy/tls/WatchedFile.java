package io.mailproxy.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * A file read again when it changes: its modification time, size and file key (inode) are compared
 * with what they were when it was last read, so that a file replaced by a rename is seen too.
 */
final class WatchedFile {

    private final Path path;
    private Object stamp;

    WatchedFile(Path path) {
        this.path = path;
    }

    Path path() {
        return path;
    }

    /** Whether the file looks different from when {@link #read()} last marked it; a missing file has changed. */
    boolean changed() {
        return !Objects.equals(stamp, stampNow());
    }

    /** Marks the file as read as it is now. */
    void read() {
        stamp = stampNow();
    }

    private Object stampNow() {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            return java.util.List.of(a.lastModifiedTime().toMillis(), a.size(), String.valueOf(a.fileKey()));
        } catch (IOException e) {
            return null;
        }
    }
}
