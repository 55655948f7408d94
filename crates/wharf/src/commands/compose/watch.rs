//! `compose watch` and the watching half of `up --watch`: the rules are checked (and the
//! project started unless `--no-up`), then one loop waits on inotify and on Ctrl-C, turns
//! each burst of changes into a batch, plans it (wharf-watch) and applies the plan through
//! the engine: sync, restart, exec, rebuild of that service only. The loop is this process's
//! only thread (a `sync+exec` runs through libcontainer, which needs that); `up --watch`
//! runs it as a child process beside its log threads.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::{Child, Command, ExitCode};
use std::time::Instant;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use wharf_compose::develop::{watch_rules, ServiceHook};
use wharf_compose::labels::ONEOFF;
use wharf_compose::{up, PlanOptions, Project, UpOptions};
use wharf_engine::{Engine, ExecOptions, Signals, TERMINATING};
use wharf_watch::{plan, Debouncer, Scope, ServicePlan, ServiceRules, WatchError, Watcher};

use super::up::{backend, event_line};
use super::{load_project, named_services, project_containers};
use crate::cli::{ComposeProjectArgs, ComposeWatchArgs};
use crate::commands::build::plain_progress;
use crate::commands::{CommandError, CommandResult};
use crate::printer::Printer;

pub fn watch(
    engine: &Engine,
    printer: Printer,
    project_args: &ComposeProjectArgs,
    args: ComposeWatchArgs,
) -> CommandResult {
    let project = load_project(printer, project_args)?;
    let services = checked_rules(&project, &args.services)?;
    let host_ca_certs = project_args.host_ca_certs;
    let apply = Apply {
        engine,
        printer,
        project: &project,
        prune: args.prune,
        quiet: args.quiet,
        host_ca_certs,
    };
    if !args.no_up {
        let names: Vec<String> = services.iter().map(|s| s.service.clone()).collect();
        apply.up(&names, false)?;
    }
    watch_loop(&apply, &services)?;
    Ok(ExitCode::SUCCESS)
}

/// The selected services' rules, checked and compiled: every error comes before anything
/// starts.
pub(super) fn checked_rules(
    project: &Project,
    services: &[String],
) -> Result<Vec<ServiceRules>, CommandError> {
    named_services(project, services)?;
    let watched = watch_rules(project, services)?;
    wharf_watch::compile(project, &watched).map_err(watch_error)
}

/// `up --watch`'s watcher: this binary's `compose watch --no-up` on the same project,
/// printing its events beside the logs; killed by [`stop_child`].
pub(super) fn spawn_child(
    project_args: &ComposeProjectArgs,
    services: &[String],
) -> Result<Child, CommandError> {
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::new(format!("cannot find the wharf binary: {e}"), None))?;
    let mut argv: Vec<OsString> = vec!["compose".into()];
    for file in &project_args.files {
        argv.extend(["--file".into(), file.into()]);
    }
    if let Some(name) = &project_args.project_name {
        argv.extend(["--project-name".into(), name.into()]);
    }
    if let Some(dir) = &project_args.project_directory {
        argv.extend(["--project-directory".into(), dir.into()]);
    }
    for file in &project_args.env_files {
        argv.extend(["--env-file".into(), file.into()]);
    }
    for profile in &project_args.profiles {
        argv.extend(["--profile".into(), profile.into()]);
    }
    argv.extend(["watch".into(), "--no-up".into()]);
    argv.extend(services.iter().map(OsString::from));
    let mut command = Command::new(exe);
    command.args(argv);
    if project_args.host_ca_certs {
        command.env("WHARF_BUILD_HOST_CA_CERTS", "true");
    }
    command
        .spawn()
        .map_err(|e| CommandError::new(format!("cannot start the watcher: {e}"), None))
}

pub(super) fn stop_child(mut child: Child) {
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    );
    let _ = child.wait();
}

fn watch_error(error: WatchError) -> CommandError {
    CommandError::new(wharf_engine::error_chain(&error), error.hint())
}

/// Waits for changes and applies them until a signal comes.
fn watch_loop(apply: &Apply, services: &[ServiceRules]) -> Result<(), CommandError> {
    let signals = Signals::block(TERMINATING)
        .map_err(|e| CommandError::new(format!("cannot block signals: {e}"), None))?;
    let roots = wharf_watch::roots(services);
    let owned: Vec<ServiceRules> = services.to_vec();
    let mut watcher = Watcher::new(
        &roots,
        Box::new(move |folder: &Path| wharf_watch::wanted(&owned, folder)),
    )
    .map_err(watch_error)?;
    apply.printer.info("Watch enabled");
    let mut everything = watcher.everything();
    everything.sort();
    everything.dedup();
    apply.batch(&plan(services, &everything, Scope::InitialSync, &exists));
    let mut debouncer = Debouncer::default();
    loop {
        let timeout = debouncer.due().map(|due| {
            let left = due.saturating_duration_since(Instant::now());
            Timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            }
        });
        let mut fds = [
            PollFd::new(&signals, PollFlags::IN),
            PollFd::from_borrowed_fd(watcher.as_fd(), PollFlags::IN),
        ];
        match poll(&mut fds, timeout.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => {
                return Err(CommandError::new(
                    format!("cannot wait for changes: {e}"),
                    None,
                ))
            }
        }
        let (signalled, changed) = (!fds[0].revents().is_empty(), !fds[1].revents().is_empty());
        if signalled && signals.next().ok().flatten().is_some() {
            return Ok(());
        }
        if changed {
            debouncer.add(watcher.read().map_err(watch_error)?, Instant::now());
        }
        if let Some(batch) = debouncer.take(Instant::now()) {
            apply.batch(&plan(services, &batch, Scope::Changes, &exists));
        }
    }
}

fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// What a batch's plan is applied with.
struct Apply<'a> {
    engine: &'a Engine,
    printer: Printer,
    project: &'a Project,
    prune: bool,
    quiet: bool,
    host_ca_certs: bool,
}

impl Apply<'_> {
    /// Applies each service's plan; a failure is shown and watching goes on, as docker
    /// compose does (the next save may fix it).
    fn batch(&self, plans: &[ServicePlan]) {
        for plan in plans {
            if let Err(error) = self.service(plan) {
                self.printer.error(&error.message, error.hint.as_deref());
            }
        }
    }

    fn service(&self, plan: &ServicePlan) -> Result<(), CommandError> {
        let service = &plan.service;
        if plan.rebuild {
            self.printer.info(format!(
                "Rebuilding service(s) [\"{service}\"] after changes were detected..."
            ));
            self.up(std::slice::from_ref(service), true)?;
            self.printer
                .info(format!("service(s) [\"{service}\"] successfully built"));
            if self.prune {
                self.engine.prune_images(false)?;
            }
            return Ok(());
        }
        let containers: Vec<_> = project_containers(
            self.engine,
            &self.project.name,
            std::slice::from_ref(service),
        )?
        .into_iter()
        .filter(|c| c.record.labels.get(ONEOFF).map(String::as_str) != Some("True"))
        .collect();
        if !plan.changes.is_empty() {
            for container in &containers {
                self.engine
                    .sync_into_container(&container.record.id, &plan.changes)?;
            }
            self.printer.info(format!(
                "Syncing service \"{service}\" after {} changes were detected",
                plan.taken
            ));
        }
        if plan.restart {
            for container in &containers {
                self.engine
                    .stop_container(&container.record.id, None, None)?;
                self.engine.start_detached(&container.record.id)?;
            }
            self.printer
                .info(format!("service(s) [\"{service}\"] restarted"));
        }
        for hook in &plan.execs {
            for container in containers.iter().filter(|c| c.state.status.is_up()) {
                self.exec(&container.record.id, hook)?;
            }
            let command = hook.command.clone().unwrap_or_default().join(" ");
            self.printer
                .info(format!("service(s) [\"{service}\"] ran `{command}`"));
        }
        Ok(())
    }

    fn exec(&self, container: &str, hook: &ServiceHook) -> Result<(), CommandError> {
        if hook.privileged {
            self.printer
                .info("WARN[0000] exec.privileged is not supported: the command runs unprivileged");
        }
        let options = ExecOptions {
            command: hook.command.clone().unwrap_or_default(),
            env: hook
                .environment
                .iter()
                .filter_map(|(key, value)| Some(format!("{key}={}", value.as_ref()?)))
                .collect(),
            user: Some(hook.user.clone()).filter(|u| !u.is_empty()),
            workdir: Some(hook.working_dir.clone()).filter(|w| !w.is_empty()),
            interactive: false,
            detach: false,
            tty: false,
        };
        let code = self.engine.exec_in_container(container, &options)?;
        if code != 0 {
            return Err(CommandError::new(
                format!(
                    "exec {:?} in {container} exited with code {code}",
                    options.command
                ),
                None,
            ));
        }
        Ok(())
    }

    /// `up` of `services`: with `rebuild`, their images built again through the cache and
    /// only they recreated, as docker compose's rebuild does.
    fn up(&self, services: &[String], rebuild: bool) -> Result<(), CommandError> {
        let reporter = plain_progress(self.printer, self.quiet);
        let backend = backend(self.engine, &reporter, self.host_ca_certs);
        let options = UpOptions {
            plan: PlanOptions {
                services: services.to_vec(),
                no_deps: rebuild,
                force_recreate: rebuild,
                ..PlanOptions::default()
            },
            build: rebuild,
            ..UpOptions::default()
        };
        self.engine.warm_up_container_start();
        up(&backend, self.project, &options, &mut |event| {
            self.printer.info(event_line(&event))
        })?;
        Ok(())
    }
}
