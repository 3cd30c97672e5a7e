require ["fileinto","envelope","vacation","subaddress"];
# rule:[detail]
if envelope :detail :is "to" "lists"
{
	fileinto "Lists";
	stop;
}
# rule:[away]
if true
{
	vacation :days 7 :subject "Away: ${subject}" "Away until Monday.";
}
