package io.mailproxy.balance;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Literal addresses for tests, without a name lookup or a checked exception. */
final class InetAddresses {

    private InetAddresses() {
    }

    static InetAddress v4(int a, int b, int c, int d) {
        return of(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    }

    /** 2001:db8::{high}:{low}, in the documentation prefix. */
    static InetAddress v6(int high, int low) {
        byte[] bytes = new byte[16];
        bytes[0] = 0x20;
        bytes[1] = 0x01;
        bytes[2] = 0x0d;
        bytes[3] = (byte) 0xb8;
        bytes[12] = (byte) (high >> 8);
        bytes[13] = (byte) high;
        bytes[14] = (byte) (low >> 8);
        bytes[15] = (byte) low;
        return of(bytes);
    }

    private static InetAddress of(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
