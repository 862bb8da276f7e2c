//! Embedding Skadi as a library: open a catalog, compile SQL to FlowGraph and to a
//! physical plan, look at the plan, run it, and use the Arrow batches directly; then the
//! same query as a Substrait plan, the way another engine would hand it over.
//!
//! `cargo run --release --example embed -- data/tpch-sf0.1`

use skadi::Session;

fn main() -> Result<(), skadi::Error> {
    let catalog = std::env::args().nth(1).unwrap_or_else(|| "data/tpch-sf0.1".into());
    let session = Session::open(&catalog)?.with_workers(2);
    let sql = "select l_returnflag, count(*) as n, avg(l_discount) as avg_disc \
               from lineitem where l_quantity > 45 group by l_returnflag order by l_returnflag";
    let compiled = session.compile(sql, "embed.sql")?;
    println!(
        "{} vertices in {} stages",
        compiled.plan.vertices.len(),
        compiled.plan.stages.len()
    );
    let result = session.run_plan(&compiled.plan, None)?;
    let rows: usize = result.batches.iter().map(|b| b.num_rows()).sum();
    println!("{rows} groups from {} tasks:", result.tasks);
    println!("{}", skadi::format_table(&result.batches)?);

    // The same query as a Substrait plan, as another engine would hand it over.
    let substrait = session.substrait(sql, "embed.sql", skadi::SubstraitEncoding::Binary)?;
    let source = skadi::Source::substrait(&substrait, "embed.substrait")?;
    let again = session.run_plan(&session.compile_source(&source, |_, _| {})?.plan, None)?;
    let rows: usize = again.batches.iter().map(|b| b.num_rows()).sum();
    println!(
        "through Substrait ({} bytes of protobuf): {rows} groups",
        substrait.len()
    );
    Ok(())
}
