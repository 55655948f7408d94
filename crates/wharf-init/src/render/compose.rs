//! `compose.yaml` and `.env`: the app (`web` when it serves, else `app`, restarted only on
//! failure) and its Celery worker and beat, built from the Dockerfile, and the services its
//! dependencies need, each with a healthcheck the app waits for (`condition:
//! service_healthy`); passwords live in `.env`, which the file only refers to.

use crate::facts::{Facts, Service};

const POSTGRES_IMAGE: &str = "postgres:15";
const REDIS_IMAGE: &str = "redis:7";

fn depends_on(facts: &Facts) -> String {
    if facts.services.is_empty() {
        return String::new();
    }
    let mut text = "    depends_on:\n".to_owned();
    for service in &facts.services {
        let name = match service {
            Service::Postgres => "db",
            Service::Redis => "redis",
        };
        text.push_str(&format!(
            "      {name}:\n        condition: service_healthy\n"
        ));
    }
    text
}

fn environment(facts: &Facts) -> String {
    let mut lines = Vec::new();
    if facts.services.contains(&Service::Postgres) {
        lines
            .push("      DATABASE_URL: postgres://app:${POSTGRES_PASSWORD}@db:5432/app".to_owned());
    }
    if facts.services.contains(&Service::Redis) {
        lines.push("      REDIS_URL: redis://redis:6379/0".to_owned());
        if facts.celery.is_some() {
            lines.push("      CELERY_BROKER_URL: redis://redis:6379/0".to_owned());
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    format!("    environment:\n{}\n", lines.join("\n"))
}

fn quoted_list(words: &[String]) -> String {
    let words: Vec<String> = words.iter().map(|word| format!("\"{word}\"")).collect();
    format!("[{}]", words.join(", "))
}

pub fn compose(facts: &Facts) -> String {
    let mut text =
        "# Written by `wharf init`. Secrets are read from .env (not committed).\nservices:\n"
            .to_owned();
    let shared = format!(
        "{}{}    restart: unless-stopped\n",
        depends_on(facts),
        environment(facts)
    );
    if facts.app.is_web() {
        text.push_str(&format!(
            "  web:\n    build: .\n    ports:\n      - \"{port}:{port}\"\n{shared}",
            port = facts.port
        ));
    } else {
        // A program that may finish: restarted when it fails, not when it is done.
        text.push_str(&format!(
            "  app:\n    build: .\n{}{}    restart: on-failure\n",
            depends_on(facts),
            environment(facts)
        ));
    }
    if let Some(celery) = &facts.celery {
        let worker =
            ["celery", "-A", &celery.module, "worker", "--loglevel=INFO"].map(String::from);
        text.push_str(&format!(
            "  worker:\n    build: .\n    command: {}\n    healthcheck:\n      disable: true\n{shared}",
            quoted_list(&worker)
        ));
        if celery.beat {
            // The schedule file goes where the non-root user may write (not /app).
            let beat = [
                "celery",
                "-A",
                &celery.module,
                "beat",
                "--loglevel=INFO",
                "--schedule",
                "/tmp/celerybeat-schedule",
            ]
            .map(String::from);
            text.push_str(&format!(
                "  beat:\n    build: .\n    command: {}\n    healthcheck:\n      disable: true\n{shared}",
                quoted_list(&beat)
            ));
        }
    }
    if facts.services.contains(&Service::Postgres) {
        text.push_str(&format!(
            "  db:\n    image: {POSTGRES_IMAGE}\n    environment:\n      POSTGRES_DB: app\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD}}\n    volumes:\n      - db-data:/var/lib/postgresql/data\n    healthcheck:\n      test: [\"CMD-SHELL\", \"pg_isready -U app -d app\"]\n      interval: 5s\n      timeout: 3s\n      retries: 10\n    restart: unless-stopped\n"
        ));
    }
    if facts.services.contains(&Service::Redis) {
        text.push_str(&format!(
            "  redis:\n    image: {REDIS_IMAGE}\n    healthcheck:\n      test: [\"CMD\", \"redis-cli\", \"ping\"]\n      interval: 5s\n      timeout: 3s\n      retries: 10\n    restart: unless-stopped\n"
        ));
    }
    if facts.services.contains(&Service::Postgres) {
        text.push_str("volumes:\n  db-data: {}\n");
    }
    text
}

/// `.env` with the generated development passwords; `None` when no service needs one.
pub fn env_file(facts: &Facts, password: &str) -> Option<String> {
    facts.services.contains(&Service::Postgres).then(|| {
        format!("# Written by `wharf init`: development secrets, kept out of the image and of git.\nPOSTGRES_PASSWORD={password}\n")
    })
}
