//! A redis-server of the test's own that speaks only TLS, with a certificate no system trusts
//! (as Heroku Redis' self-signed one; made by the openssl CLI), on a free port; stopped when
//! dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tempfile::TempDir;

pub struct TlsRedis {
    child: Child,
    pub port: u16,
    dir: TempDir,
}

impl TlsRedis {
    pub fn start() -> TlsRedis {
        let dir = tempfile::tempdir().expect("temp dir");
        // A CA of the test's own, and the server's certificate signed by it (webpki refuses a CA
        // certificate presented as the server's own).
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &dir,
            &["req", "-x509", "-days", "1", "-subj", "/CN=test CA"],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem"],
        );
        openssl(
            &dir,
            &["req", "-new", "-subj", "/CN=localhost"],
            &ec,
            &["-keyout", "key.pem", "-out", "cert.csr"],
        );
        std::fs::write(
            dir.path().join("ext.cnf"),
            "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .expect("ext.cnf");
        openssl(
            &dir,
            &[
                "x509", "-req", "-days", "1", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey",
                "ca.key",
            ],
            &["-CAcreateserial", "-extfile", "ext.cnf"],
            &["-out", "cert.pem"],
        );
        // A free port: bound by the kernel's choice, then released for redis-server.
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            probe.local_addr().expect("addr").port()
        };
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
            .arg("--tls-cert-file")
            .arg(dir.path().join("cert.pem"))
            .arg("--tls-key-file")
            .arg(dir.path().join("key.pem"))
            .arg("--tls-ca-cert-file")
            .arg(dir.path().join("ca.pem"))
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        // Its log says when it accepts connections (or why it stopped).
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut log = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) if line.contains("Ready to accept connections") => break,
                Ok(line) => log.push(line),
                Err(e) => panic!(
                    "redis-server with TLS did not start ({e}):\n{}",
                    log.join("\n")
                ),
            }
        }
        TlsRedis { child, port, dir }
    }

    /// The CA that signed the server's certificate, for `SSL_CERT_FILE`.
    #[allow(dead_code)]
    pub fn ca_certificate(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

/// Runs the openssl CLI in `dir` with the arguments given in parts.
fn openssl(dir: &TempDir, a: &[&str], b: &[&str], c: &[&str]) {
    let status = Command::new("openssl")
        .args(a)
        .args(b)
        .args(c)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the openssl CLI");
    assert!(status.success(), "openssl {a:?} {b:?} {c:?}");
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
