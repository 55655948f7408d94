//! The service fixture images (`postgres:15`, `redis:7`, `nginx:1.22`, built from Debian
//! packages by `scripts/fixtures`) behave as their official images do where users rely on
//! them, driven through the real `wharf`: postgres initializes once from its `POSTGRES_*`
//! settings and init scripts, keeps its data on a named volume and serves a client in another
//! container with the password; redis serves another container by name; nginx serves its
//! default page and a mounted config on published ports and logs to the container's output.
//!
//! Each test's wharf runs in a network namespace of its own that plays the host
//! (`Wharf::isolated`); published ports are reached there with the host's python `urllib`.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::Wharf;

/// A test's wharf with fixture `name` imported as `tag`, or `None` after printing SKIPPED.
fn setup(name: &str, tag: &str) -> Option<Wharf> {
    if !common::is_root() {
        common::skip("containers and networks need root");
        return None;
    }
    let wharf = Wharf::isolated();
    if wharf.netns.is_none() {
        common::skip("cannot make a network namespace for the test (`ip netns add`)");
        return None;
    }
    wharf.import_fixture(name, tag);
    Some(wharf)
}

/// Polls `check` until it gives a value, for at most two minutes (a first postgres start runs
/// initdb and syncs its files, slow on a busy machine); on timeout, fails with `what` and
/// the logs of `container`.
fn eventually<T>(
    wharf: &Wharf,
    container: &str,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(value) = check() {
            return value;
        }
        if Instant::now() > deadline {
            let logs = wharf.run(&["logs", container]);
            panic!(
                "{what}: not after 120 s; logs of {container}:\n{}{}",
                common::stdout(&logs),
                stderr(&logs)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Everything `wharf logs` prints for `container`, stdout then stderr.
fn logs(wharf: &Wharf, container: &str) -> String {
    let output = wharf.run(&["logs", container]);
    common::assert_success(&output, &["logs", container]);
    common::stdout(&output) + &stderr(&output)
}

/// Removes every container, then `networks` and `volumes`; nothing of them may remain (a
/// network's DNS helper lives as long as the network).
fn remove_everything(wharf: &Wharf, networks: &[&str], volumes: &[&str]) {
    let ids = wharf.container_ids();
    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.iter().map(String::as_str));
    wharf.ok(&rm);
    for network in networks {
        wharf.ok(&["network", "rm", network]);
    }
    for volume in volumes {
        wharf.ok(&["volume", "rm", volume]);
    }
    wharf.assert_nothing_leaked(&ids);
}

/// `psql` in a new container on network `backend`, connecting over TCP to the server named
/// `db` as `app` with `password`.
fn psql(wharf: &Wharf, password: &str, sql: &str) -> Output {
    wharf.run(&[
        "run",
        "--rm",
        "--network",
        "backend",
        "-e",
        &format!("PGPASSWORD={password}"),
        "postgres:15",
        "psql",
        "-h",
        "db",
        "-U",
        "app",
        "-d",
        "appdb",
        "-v",
        "ON_ERROR_STOP=1",
        "-tAc",
        sql,
    ])
}

/// What `sql` prints through [`psql`] with the right password.
fn query(wharf: &Wharf, sql: &str) -> String {
    let output = psql(wharf, "s3cret", sql);
    common::assert_success(&output, &["psql", sql]);
    common::stdout(&output).trim().to_string()
}

/// Waits until the server in `db` answers on TCP: the init server of a first start listens on
/// its socket only, so this is the real server.
fn wait_until_ready(wharf: &Wharf) {
    let args = [
        "exec",
        "db",
        "pg_isready",
        "-h",
        "127.0.0.1",
        "-U",
        "app",
        "-d",
        "appdb",
    ];
    eventually(wharf, "db", "pg_isready on 127.0.0.1", || {
        wharf.run(&args).status.success().then_some(())
    });
}

/// Starts the server `db` on network `backend` with its data on volume `pgdata`, the init
/// scripts from `init_mount` and the environment `settings`, and waits until it is ready.
fn start_db(wharf: &Wharf, settings: &[&str], init_mount: &str) {
    let mut args = vec!["run", "-d", "--name", "db", "--network", "backend"];
    for setting in settings {
        args.extend(["-e", setting]);
    }
    args.extend([
        "-v",
        "pgdata:/var/lib/postgresql/data",
        "-v",
        init_mount,
        "postgres:15",
    ]);
    wharf.ok(&args);
    wait_until_ready(wharf);
}

/// Init scripts of every kind the image runs: plain SQL, gzipped SQL, and a shell script
/// sourced (not executable) that uses the official image's `docker_process_sql`.
fn write_init_scripts(dir: &Path) {
    std::fs::write(
        dir.join("10-notes.sql"),
        "CREATE TABLE notes (body text);\nINSERT INTO notes VALUES ('from sql');\n",
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"INSERT INTO notes VALUES ('from gz');\n")
        .unwrap();
    std::fs::write(dir.join("20-more.sql.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(
        dir.join("30-sourced.sh"),
        "docker_process_sql <<<\"INSERT INTO notes VALUES ('from sh')\"\n",
    )
    .unwrap();
}

#[test]
fn postgres_initializes_once_and_serves_its_data_to_a_client_with_the_password() {
    let Some(wharf) = setup("postgres-15", "postgres:15") else {
        return;
    };
    let init = tempfile::tempdir().unwrap();
    write_init_scripts(init.path());
    let init_mount = format!("{}:/docker-entrypoint-initdb.d:ro", init.path().display());
    wharf.ok(&["network", "create", "backend"]);
    let settings = [
        "POSTGRES_USER=app",
        "POSTGRES_PASSWORD=s3cret",
        "POSTGRES_DB=appdb",
        "POSTGRES_INITDB_ARGS=--data-checksums",
    ];
    start_db(&wharf, &settings, &init_mount);

    let all_notes = "SELECT string_agg(body, ',' ORDER BY body) FROM notes";
    assert_eq!(query(&wharf, all_notes), "from gz,from sh,from sql");
    assert_eq!(query(&wharf, "SHOW data_checksums"), "on");
    assert_eq!(query(&wharf, "SELECT current_user"), "app");
    let refused = psql(&wharf, "wrong", "SELECT 1");
    assert!(!refused.status.success(), "a wrong password was accepted");
    assert!(
        stderr(&refused).contains("password authentication failed for user \"app\""),
        "{}",
        stderr(&refused)
    );
    let first_logs = logs(&wharf, "db");
    for line in [
        "running /docker-entrypoint-initdb.d/10-notes.sql",
        "running /docker-entrypoint-initdb.d/20-more.sql.gz",
        "sourcing /docker-entrypoint-initdb.d/30-sourced.sh",
        "PostgreSQL init process complete; ready for start up",
        "listening on IPv4 address \"0.0.0.0\", port 5432",
    ] {
        assert!(first_logs.contains(line), "no `{line}` in:\n{first_logs}");
    }
    query(&wharf, "INSERT INTO notes VALUES ('from client')");
    let with_client = "from client,from gz,from sh,from sql";

    // A restart finds the cluster and runs no init script again.
    wharf.ok(&["restart", "db"]);
    wait_until_ready(&wharf);
    assert_eq!(query(&wharf, all_notes), with_client);
    let restarted_logs = logs(&wharf, "db");
    assert!(
        restarted_logs.contains("appears to contain a database; Skipping initialization"),
        "{restarted_logs}"
    );
    assert_eq!(
        restarted_logs
            .matches("running /docker-entrypoint-initdb.d/10-notes.sql")
            .count(),
        1,
        "{restarted_logs}"
    );

    // So does a new container on the same volume, which needs no POSTGRES_* setting then.
    wharf.ok(&["rm", "-f", "db"]);
    start_db(&wharf, &[], &init_mount);
    assert_eq!(query(&wharf, all_notes), with_client);
    assert!(!logs(&wharf, "db").contains("running /docker-entrypoint-initdb.d"));

    remove_everything(&wharf, &["backend"], &["pgdata"]);
}

#[test]
fn postgres_refuses_to_initialize_without_a_password() {
    let Some(wharf) = setup("postgres-15", "postgres:15") else {
        return;
    };
    let output = wharf.run(&["run", "--rm", "postgres:15"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("superuser password is not specified"),
        "{}",
        stderr(&output)
    );
    wharf.remove_all_containers_leaving_nothing();
}

/// `redis-cli -h cache ARGS` in a new container on network `cachenet`.
fn redis_cli(wharf: &Wharf, args: &[&str]) -> Output {
    let mut all = vec![
        "run",
        "--rm",
        "--network",
        "cachenet",
        "redis:7",
        "redis-cli",
        "-h",
        "cache",
    ];
    all.extend_from_slice(args);
    wharf.run(&all)
}

fn redis_says(wharf: &Wharf, args: &[&str]) -> String {
    let output = redis_cli(wharf, args);
    common::assert_success(&output, args);
    common::stdout(&output).trim().to_string()
}

fn start_redis(wharf: &Wharf) {
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "cache",
        "--network",
        "cachenet",
        "-v",
        "cachedata:/data",
        "redis:7",
    ]);
    eventually(wharf, "cache", "redis answering PING", || {
        let output = redis_cli(wharf, &["PING"]);
        (common::stdout(&output).trim() == "PONG").then_some(())
    });
}

#[test]
fn redis_serves_another_container_by_name_and_keeps_its_data_in_the_volume() {
    let Some(wharf) = setup("redis-7", "redis:7") else {
        return;
    };
    wharf.ok(&["network", "create", "cachenet"]);
    start_redis(&wharf);
    assert_eq!(redis_says(&wharf, &["SET", "greeting", "hello"]), "OK");
    assert_eq!(redis_says(&wharf, &["GET", "greeting"]), "hello");
    // As the official image: protected mode off (which let the remote SET in), data in /data,
    // the server running as the redis user.
    assert_eq!(
        redis_says(&wharf, &["CONFIG", "GET", "protected-mode"]),
        "protected-mode\nno"
    );
    assert_eq!(redis_says(&wharf, &["CONFIG", "GET", "dir"]), "dir\n/data");
    assert_eq!(
        wharf
            .ok(&["exec", "cache", "stat", "-c", "%U", "/proc/1"])
            .trim(),
        "redis"
    );

    assert_eq!(redis_says(&wharf, &["SAVE"]), "OK");
    wharf.ok(&["rm", "-f", "cache"]);
    start_redis(&wharf);
    assert_eq!(redis_says(&wharf, &["GET", "greeting"]), "hello");

    remove_everything(&wharf, &["cachenet"], &["cachedata"]);
}

/// GET `http://127.0.0.1:PORT/PATH` with python's urllib in the test's host namespace: the
/// status and body, or `None` while nothing answers.
fn http_get(wharf: &Wharf, port: u16, path: &str) -> Option<(u16, String)> {
    const GET: &str = "import sys, urllib.request, urllib.error
try:
    response = urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError as error:
    response = error
except OSError:
    sys.exit(1)
print(response.status)
sys.stdout.write(response.read().decode())";
    let output = wharf
        .host_command("python3")
        .args(["-c", GET, &format!("http://127.0.0.1:{port}{path}")])
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    if !output.status.success() {
        return None;
    }
    let text = common::stdout(&output);
    let (status, body) = text.split_once('\n')?;
    Some((status.parse().ok()?, body.to_string()))
}

fn await_page(wharf: &Wharf, container: &str, port: u16, path: &str) -> (u16, String) {
    eventually(
        wharf,
        container,
        &format!("GET {path} on port {port}"),
        || http_get(wharf, port, path),
    )
}

/// Replaces the default server: its own page at /own, everything else proxied to the
/// container named `web` by its name.
const PROXY_CONF: &str = "server {
    listen 80;
    location = /own { return 200 \"replaced config\\n\"; }
    location / { proxy_pass http://web:80; }
}
";

#[test]
fn nginx_serves_its_default_page_and_a_mounted_config_that_proxies_to_another_container() {
    let python = Command::new("sh")
        .args(["-c", "command -v python3"])
        .stdout(Stdio::null())
        .status();
    if !python.is_ok_and(|s| s.success()) {
        common::skip("the host has no python3 to fetch pages with (apt-get install python3)");
        return;
    }
    let Some(wharf) = setup("nginx-1.22", "nginx:1.22") else {
        return;
    };
    wharf.ok(&["network", "create", "front"]);
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "-p",
        "8080:80",
        "nginx:1.22",
    ]);
    let (status, page) = await_page(&wharf, "web", 8080, "/");
    assert_eq!(status, 200);
    assert!(page.contains("<title>Welcome to nginx!</title>"), "{page}");
    assert_eq!(await_page(&wharf, "web", 8080, "/missing").0, 404);
    // The access log is the container's stdout, the error log its stderr.
    eventually(&wharf, "web", "the access log in `wharf logs`", || {
        let output = wharf.run(&["logs", "web"]);
        common::stdout(&output)
            .contains("\"GET /missing HTTP/1.1\" 404")
            .then_some(())
    });
    let output = wharf.run(&["logs", "web"]);
    assert!(
        stderr(&output).contains("open() \"/usr/share/nginx/html/missing\" failed"),
        "{}",
        stderr(&output)
    );

    let conf = tempfile::tempdir().unwrap();
    std::fs::write(conf.path().join("default.conf"), PROXY_CONF).unwrap();
    let conf_mount = format!("{}:/etc/nginx/conf.d:ro", conf.path().display());
    wharf.ok(&[
        "run",
        "-d",
        "--name",
        "proxy",
        "--network",
        "front",
        "-p",
        "8081:80",
        "-v",
        &conf_mount,
        "nginx:1.22",
    ]);
    assert_eq!(
        await_page(&wharf, "proxy", 8081, "/own"),
        (200, "replaced config\n".to_string())
    );
    let (status, proxied) = await_page(&wharf, "proxy", 8081, "/");
    assert_eq!(status, 200);
    assert!(proxied.contains("Welcome to nginx!"), "{proxied}");
    eventually(&wharf, "web", "the proxied request in web's log", || {
        (logs(&wharf, "web")
            .matches("\"GET / HTTP/1.0\" 200")
            .count()
            == 1)
            .then_some(())
    });

    remove_everything(&wharf, &["front"], &[]);
}
