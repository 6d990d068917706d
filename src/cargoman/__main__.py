from cargoman.cli.main import app

app(prog_name="cargoman")
